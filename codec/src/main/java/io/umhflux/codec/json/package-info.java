/**
 * JSON lines for umh-flux: {@link io.umhflux.codec.json.JsonCodec}, one JSON value per line, the stdio transport
 * of helpers written in any language (and of tools such as MCP servers and language servers). Needs Jackson 3
 * ({@code tools.jackson.core:jackson-databind}), an optional dependency of this module.
 */
@NullMarked
package io.umhflux.codec.json;

import org.jspecify.annotations.NullMarked;
