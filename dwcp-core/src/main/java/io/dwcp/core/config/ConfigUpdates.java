package io.dwcp.core.config;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The run-time changes of one node's {@linkplain ConfigKey#dynamic() dynamic} keys. A {@code DwcpManager} owns one and
 * hands its components {@link #view()}: a {@link DwcpConfig} whose reads always see the latest change, so a component
 * that reads a dynamic key when it uses it (a round's compression level, a new session's tier) follows changes
 * without being told. Components that cache a value are told by the manager instead
 * ({@code Component.configChanged}).
 *
 * <p>A change is validated like a whole configuration (the key's own rule and every cross-key rule) and either
 * applies in full or not at all. Non-dynamic keys are refused: they are read once at start.
 *
 * <p>Thread-safe: changes are serialised; readers never lock.
 */
public final class ConfigUpdates {
    private volatile DwcpConfig current;
    private final DwcpConfig view;

    /**
     * Starts from {@code initial}.
     *
     * @param initial the configuration the node was built with
     */
    public ConfigUpdates(DwcpConfig initial) {
        this.current = Objects.requireNonNull(initial, "initial").snapshot();
        this.view = new DwcpConfig(this);
    }

    /** {@return the live view: reads see every change made so far} */
    public DwcpConfig view() {
        return view;
    }

    /** {@return the configuration as it is now, an immutable snapshot} */
    public DwcpConfig current() {
        return current;
    }

    /** {@return the dynamic keys, in reference order} */
    public static List<ConfigKey<?>> dynamicKeys() {
        List<ConfigKey<?>> out = new ArrayList<>();
        for (ConfigKey<?> k : ConfigSchema.keys()) {
            if (k.dynamic()) {
                out.add(k);
            }
        }
        return out;
    }

    /**
     * Changes a dynamic key.
     *
     * @param key the key
     * @param value its new value
     * @param <T> the type of its value
     * @return the new configuration
     * @throws DwcpException {@code INVALID_CONFIG} when the key is not dynamic or the value breaks a rule; nothing
     *     changes then
     */
    public synchronized <T> DwcpConfig set(ConfigKey<T> key, T value) {
        requireDynamic(key);
        return apply(current.toBuilder().set(key, value));
    }

    /**
     * Changes a dynamic key from its text form ({@code "dwcp.transport.rate-cap", "200Mbit/s"}).
     *
     * @param name the key's name
     * @param text the value's text form
     * @return the new configuration
     * @throws DwcpException {@code INVALID_CONFIG} when the name is unknown, the key is not dynamic or the value does
     *     not parse or breaks a rule; nothing changes then
     */
    public synchronized DwcpConfig set(String name, String text) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(text, "text");
        ConfigKey<?> key = ConfigSchema.key(name);
        if (key != null) {
            requireDynamic(key);
        }
        return apply(current.toBuilder().set(name, text));
    }

    private DwcpConfig apply(DwcpConfig.Builder b) {
        DwcpConfig next = b.build();
        current = next;
        return next;
    }

    private static void requireDynamic(ConfigKey<?> key) {
        Objects.requireNonNull(key, "key");
        if (!key.dynamic()) {
            List<String> names = new ArrayList<>();
            for (ConfigKey<?> k : dynamicKeys()) {
                names.add(k.name());
            }
            throw new DwcpException(ErrorCode.INVALID_CONFIG, key.name() + " is not dynamic: it is read once at start, so"
                    + " set it in the configuration and build a new manager; the dynamic keys are " + String.join(", ", names));
        }
    }
}
