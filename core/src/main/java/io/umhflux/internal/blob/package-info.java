/**
 * The blob's bytes placed where the kernel can execute them: a sealed memfd ({@code SealedMemfd}), or a private file
 * where memfd exec is refused ({@code PrivateFile}), hashed after placement ({@code LoadedBlob}) and opened for each
 * spawn ({@code ExecImage}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.blob;

import org.jspecify.annotations.NullMarked;
