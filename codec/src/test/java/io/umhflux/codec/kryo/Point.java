package io.umhflux.codec.kryo;

/** A message type for the tests: a record, registered with id 20. */
public record Point(int x, int y) {
}
