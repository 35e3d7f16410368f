package io.umhflux.spring.boot;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.core.io.Resource;
import org.springframework.util.unit.DataSize;

/**
 * Helpers declared in the application's properties, under {@code umh.helpers.<name>}:
 *
 * <pre>{@code
 * umh:
 *   helpers:
 *     checksum:
 *       blob: classpath:bin/checksum
 *       sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *       codec: bytes
 *       client: pool
 *       pool.size: 4
 * }</pre>
 */
@ConfigurationProperties("umh")
public class UmhProperties {
    /** The helpers, by name: each becomes a {@code UmhClient} bean qualified by that name. */
    private Map<String, Helper> helpers = new LinkedHashMap<>();

    /** @return the helpers by name */
    public Map<String, Helper> getHelpers() {
        return helpers;
    }

    /** @param helpers the helpers by name */
    public void setHelpers(Map<String, Helper> helpers) {
        this.helpers = helpers;
    }

    /** How messages are written and read. */
    public enum Codec {
        /** UTF-8 text lines: {@code UmhClient<String, String>}, framing {@code lines}. */
        LINES,
        /** Byte arrays: {@code UmhClient<byte[], byte[]>}, framing {@code length-prefixed} (4-byte big-endian). */
        BYTES,
        /** JSON lines with the application's {@code JsonMapper}: types from {@code json.*}, framing {@code lines}. */
        JSON,
        /** Kryo, registered by the bean {@code kryo.registrations} names; framing {@code length-prefixed}. */
        KRYO
    }

    /** Where one message ends. */
    public enum Framing {
        /** The codec's own: lines for {@code lines} and {@code json}, length-prefixed for the others. */
        DEFAULT,
        /** A newline after each message. */
        LINES,
        /** A 4-byte big-endian length before each message. */
        LENGTH_PREFIXED,
        /** A varint length before each message, as protobuf's {@code writeDelimitedTo} writes. */
        VARINT_PREFIXED
    }

    /** The kind of client. */
    public enum Client {
        /** One helper; requests fail once it ended. */
        SINGLE,
        /** One helper, started again after it ended, within the restart budget. */
        SUPERVISED,
        /** Helpers of a pool, started as requests come. */
        POOL
    }

    /** When a helper starts. */
    public enum Startup {
        /** With the application context: a helper that cannot start fails the context. */
        EAGER,
        /** At its first request: a helper that cannot start fails that request and turns the health DOWN. */
        LAZY
    }

    /** Which event loops the helpers' pipes run on. */
    public enum EventLoops {
        /** The web server's (reactor-netty's {@code LoopResources}) when there are, else umh-flux's own. */
        SERVER,
        /** umh-flux's shared loops. */
        OWN
    }

    /** One helper. */
    public static class Helper {
        /** The executable: a resource location such as {@code classpath:bin/checksum} or {@code file:/usr/bin/tr}. */
        private @Nullable Resource blob;
        /** The SHA-256 the blob's bytes must have (64 hex digits); none checks nothing. */
        private @Nullable String sha256;
        /** The arguments after argv[0]. */
        private List<String> args = new ArrayList<>();
        /** The environment. */
        private final Environment environment = new Environment();
        /** How messages are written and read. */
        private Codec codec = Codec.LINES;
        /** Where one message ends; {@code default} takes the codec's. */
        private Framing framing = Framing.DEFAULT;
        /** The longest message, in either direction. */
        private DataSize maxMessageSize = DataSize.ofMegabytes(1);
        /** The JSON codec's types. */
        private final Json json = new Json();
        /** The Kryo codec's registrations. */
        private final Kryo kryo = new Kryo();
        /** The kind of client. */
        private Client client = Client.SUPERVISED;
        /** The supervised client's restarts. */
        private final Restart restart = new Restart();
        /** The pool. */
        private final Pool pool = new Pool();
        /** Requests written to one helper before the first answer arrives (pipelining). */
        private int maxInFlight = 1;
        /** How long a request may wait for its answer; none waits as long as it takes. */
        private @Nullable Duration requestTimeout;
        /** How long a stopping helper has between the end of its stdin and SIGTERM, then SIGKILL. */
        private Duration stopGrace = Duration.ofSeconds(2);
        /** When the helper starts. */
        private Startup startup = Startup.EAGER;
        /** Which event loops run its pipes. */
        private EventLoops eventLoops = EventLoops.SERVER;

        /** @return the executable */
        public @Nullable Resource getBlob() {
            return blob;
        }

        /** @param blob the executable */
        public void setBlob(@Nullable Resource blob) {
            this.blob = blob;
        }

        /** @return the pinned SHA-256, or null */
        public @Nullable String getSha256() {
            return sha256;
        }

        /** @param sha256 the pinned SHA-256 */
        public void setSha256(@Nullable String sha256) {
            this.sha256 = sha256;
        }

        /** @return the arguments */
        public List<String> getArgs() {
            return args;
        }

        /** @param args the arguments */
        public void setArgs(List<String> args) {
            this.args = args;
        }

        /** @return the environment */
        public Environment getEnvironment() {
            return environment;
        }

        /** @return the codec */
        public Codec getCodec() {
            return codec;
        }

        /** @param codec the codec */
        public void setCodec(Codec codec) {
            this.codec = codec;
        }

        /** @return the framing */
        public Framing getFraming() {
            return framing;
        }

        /** @param framing the framing */
        public void setFraming(Framing framing) {
            this.framing = framing;
        }

        /** @return the longest message */
        public DataSize getMaxMessageSize() {
            return maxMessageSize;
        }

        /** @param maxMessageSize the longest message */
        public void setMaxMessageSize(DataSize maxMessageSize) {
            this.maxMessageSize = maxMessageSize;
        }

        /** @return the JSON types */
        public Json getJson() {
            return json;
        }

        /** @return the Kryo registrations */
        public Kryo getKryo() {
            return kryo;
        }

        /** @return the kind of client */
        public Client getClient() {
            return client;
        }

        /** @param client the kind of client */
        public void setClient(Client client) {
            this.client = client;
        }

        /** @return the restarts */
        public Restart getRestart() {
            return restart;
        }

        /** @return the pool */
        public Pool getPool() {
            return pool;
        }

        /** @return the in-flight limit */
        public int getMaxInFlight() {
            return maxInFlight;
        }

        /** @param maxInFlight the in-flight limit */
        public void setMaxInFlight(int maxInFlight) {
            this.maxInFlight = maxInFlight;
        }

        /** @return the request timeout, or null */
        public @Nullable Duration getRequestTimeout() {
            return requestTimeout;
        }

        /** @param requestTimeout the request timeout */
        public void setRequestTimeout(@Nullable Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
        }

        /** @return the stop grace */
        public Duration getStopGrace() {
            return stopGrace;
        }

        /** @param stopGrace the stop grace */
        public void setStopGrace(Duration stopGrace) {
            this.stopGrace = stopGrace;
        }

        /** @return when the helper starts */
        public Startup getStartup() {
            return startup;
        }

        /** @param startup when the helper starts */
        public void setStartup(Startup startup) {
            this.startup = startup;
        }

        /** @return which event loops run its pipes */
        public EventLoops getEventLoops() {
            return eventLoops;
        }

        /** @param eventLoops which event loops run its pipes */
        public void setEventLoops(EventLoops eventLoops) {
            this.eventLoops = eventLoops;
        }
    }

    /** A helper's environment: the application's, or only the allowed variables of it, plus some set here. */
    public static class Environment {
        /** The only variables taken from the application's environment; none set takes all of them. */
        private @Nullable List<String> allow;
        /** Variables set for the helper, over the others. */
        private Map<String, String> variables = new LinkedHashMap<>();

        /** @return the allowed names, or null for all */
        public @Nullable List<String> getAllow() {
            return allow;
        }

        /** @param allow the allowed names */
        public void setAllow(@Nullable List<String> allow) {
            this.allow = allow;
        }

        /** @return the variables set */
        public Map<String, String> getVariables() {
            return variables;
        }

        /** @param variables the variables set */
        public void setVariables(Map<String, String> variables) {
            this.variables = variables;
        }
    }

    /** The JSON codec's message types. */
    public static class Json {
        /** What the helper writes, one per line: a class name; default {@code tools.jackson.databind.JsonNode}. */
        private @Nullable Class<?> responseType;
        /** What is written to the helper: a class name; default {@code tools.jackson.databind.JsonNode}. */
        private @Nullable Class<?> requestType;

        /** @return the response type, or null for JsonNode */
        public @Nullable Class<?> getResponseType() {
            return responseType;
        }

        /** @param responseType the response type */
        public void setResponseType(@Nullable Class<?> responseType) {
            this.responseType = responseType;
        }

        /** @return the request type, or null for JsonNode */
        public @Nullable Class<?> getRequestType() {
            return requestType;
        }

        /** @param requestType the request type */
        public void setRequestType(@Nullable Class<?> requestType) {
            this.requestType = requestType;
        }
    }

    /** The Kryo codec's registrations. */
    public static class Kryo {
        /** The name of a {@code Consumer<Kryo>} bean that registers the message classes. */
        private @Nullable String registrations;

        /** @return the bean name, or null */
        public @Nullable String getRegistrations() {
            return registrations;
        }

        /** @param registrations the bean name */
        public void setRegistrations(@Nullable String registrations) {
            this.registrations = registrations;
        }
    }

    /** Restarts of a supervised helper. */
    public static class Restart {
        /** The wait before the first restart; it doubles up to {@code max-backoff}. */
        private Duration firstBackoff = Duration.ofMillis(100);
        /** The longest wait between restarts. */
        private Duration maxBackoff = Duration.ofSeconds(10);
        /** How many restarts the window allows before the client gives up. */
        private int maxRestarts = 10;
        /** The window the restarts are counted in. */
        private Duration window = Duration.ofMinutes(1);

        /** @return the first backoff */
        public Duration getFirstBackoff() {
            return firstBackoff;
        }

        /** @param firstBackoff the first backoff */
        public void setFirstBackoff(Duration firstBackoff) {
            this.firstBackoff = firstBackoff;
        }

        /** @return the longest backoff */
        public Duration getMaxBackoff() {
            return maxBackoff;
        }

        /** @param maxBackoff the longest backoff */
        public void setMaxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
        }

        /** @return the restarts allowed in the window */
        public int getMaxRestarts() {
            return maxRestarts;
        }

        /** @param maxRestarts the restarts allowed in the window */
        public void setMaxRestarts(int maxRestarts) {
            this.maxRestarts = maxRestarts;
        }

        /** @return the window */
        public Duration getWindow() {
            return window;
        }

        /** @param window the window */
        public void setWindow(Duration window) {
            this.window = window;
        }
    }

    /** A pool of helpers. */
    public static class Pool {
        /** The most helpers at once. */
        private int size = 2;
        /** How long an idle helper lives before the pool stops it; unset, the pool's default of one minute. */
        private @Nullable Duration idleTimeout;
        /** How many times a request is tried again on another helper after its helper failed (idempotent requests). */
        private int idempotentRetries;

        /** @return the size */
        public int getSize() {
            return size;
        }

        /** @param size the size */
        public void setSize(int size) {
            this.size = size;
        }

        /** @return the idle timeout, or null for the pool's default (one minute) */
        public @Nullable Duration getIdleTimeout() {
            return idleTimeout;
        }

        /** @param idleTimeout the idle timeout */
        public void setIdleTimeout(@Nullable Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
        }

        /** @return the retries */
        public int getIdempotentRetries() {
            return idempotentRetries;
        }

        /** @param idempotentRetries the retries */
        public void setIdempotentRetries(int idempotentRetries) {
            this.idempotentRetries = idempotentRetries;
        }
    }
}
