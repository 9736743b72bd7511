package io.dwcp.core.config;

import io.dwcp.core.Tier;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One entry of the configuration schema: key, type with its unit, default (possibly per tier), allowed range,
 * and whether it is dynamic or secret. The schema drives parsing, validation and the generated reference
 * ({@link ConfigSchema#markdownReference()}).
 *
 * <p>Immutable and thread-safe. Keys are compared by identity; there is one instance per key name.
 *
 * @param <T> value type
 */
public final class ConfigKey<T> {
    private final String name;
    private final ValueType<T> type;
    private final Map<Tier, T> defaults;
    private final String defaultText;
    private final Function<T, String> rule;
    private final String allowed;
    private final boolean dynamic;
    private final boolean secret;
    private final String description;

    private ConfigKey(Builder<T> b) {
        this.name = b.name;
        this.type = b.type;
        this.defaults = b.defaults;
        this.defaultText = b.defaultText;
        this.rule = b.rule;
        this.allowed = b.allowed;
        this.dynamic = b.dynamic;
        this.secret = b.secret;
        this.description = b.description;
    }

    /**
     * Starts a key named {@code dwcp.<section>.<name>}.
     *
     * @param name the full name, {@code dwcp.<section>.<name>}
     * @param type the type of the value
     * @param <T> the Java type of the value
     * @return the builder
     */
    public static <T> Builder<T> builder(String name, ValueType<T> type) {
        return new Builder<>(name, type);
    }

    /**
     * The property-form name, e.g. {@code dwcp.transport.max-streams}.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /** @return the type of the key's value, which parses and formats its text form */
    public ValueType<T> type() {
        return type;
    }

    /**
     * The default for a tier; the same for every tier unless {@link #tierDependent()}.
     *
     * @param tier the tier
     * @return the default on that tier
     */
    public T defaultValue(Tier tier) {
        return defaults.get(tier);
    }

    /** {@return whether the default depends on the tier} */
    public boolean tierDependent() {
        T local = defaults.get(Tier.LOCAL);
        return !Objects.equals(local, defaults.get(Tier.REGIONAL)) || !Objects.equals(local, defaults.get(Tier.WAN));
    }

    /** {@return text of the default as the reference shows it} */
    public String defaultText() {
        return defaultText;
    }

    /** {@return text of the allowed range as messages and the reference show it} */
    public String allowed() {
        return allowed;
    }

    /** {@return whether the value may change at run time} */
    public boolean dynamic() {
        return dynamic;
    }

    /** {@return whether the value is redacted in dumps} */
    public boolean secret() {
        return secret;
    }

    /** @return what the key does, as shown in the configuration reference */
    public String description() {
        return description;
    }

    /** {@code null} when the value is allowed, else what is expected (e.g. {@code "expected 1–256"}). */
    String check(T value) {
        return rule == null ? null : rule.apply(value);
    }

    /** Casts a value of unknown static type to this key's type, or throws. */
    T cast(Object value) {
        if (!type.accepts(value)) {
            throw new IllegalArgumentException(name + ": expected a " + type.name() + ", got "
                    + (value == null ? "null" : value.getClass().getSimpleName()));
        }
        @SuppressWarnings("unchecked")
        T t = (T) value;
        return t;
    }

    @Override
    public String toString() {
        return name;
    }

    /** Builder of one key; used by the schema classes. */
    public static final class Builder<T> {
        private final String name;
        private final ValueType<T> type;
        private Map<Tier, T> defaults;
        private String defaultText;
        private Function<T, String> rule;
        private String allowed = "any " + "value";
        private boolean dynamic;
        private boolean secret;
        private String description = "";

        private Builder(String name, ValueType<T> type) {
            this.name = Objects.requireNonNull(name, "name");
            this.type = Objects.requireNonNull(type, "type");
            this.allowed = "any " + type.name();
        }

        /**
         * The default on every tier.
         *
         * @param value the default
         * @return this builder
         */
        public Builder<T> defaultValue(T value) {
            return tierDefaults(value, value, value);
        }

        /**
         * Defaults for LOCAL, REGIONAL and WAN.
         *
         * @param local the default on the LOCAL tier
         * @param regional the default on the REGIONAL tier
         * @param wan the default on the WAN tier
         * @return this builder
         */
        public Builder<T> tierDefaults(T local, T regional, T wan) {
            Map<Tier, T> m = new EnumMap<>(Tier.class);
            m.put(Tier.LOCAL, local);
            m.put(Tier.REGIONAL, regional);
            m.put(Tier.WAN, wan);
            this.defaults = m;
            if (Objects.equals(local, regional) && Objects.equals(local, wan)) {
                this.defaultText = type.format(local);
            } else {
                this.defaultText = String.join(" / ", Arrays.asList(type.format(local), type.format(regional), type.format(wan)))
                        + " (local / regional / wan)";
            }
            return this;
        }

        /**
         * Overrides the text shown for the default (e.g. "cores ÷ 2").
         *
         * @param text the text
         * @return this builder
         */
        public Builder<T> defaultText(String text) {
            this.defaultText = text;
            return this;
        }

        /**
         * The allowed values: {@code check} returns null when allowed; {@code allowed} describes them.
         *
         * @param allowed the allowed values, as messages and the reference show them
         * @param check whether a value is allowed
         * @return this builder
         */
        public Builder<T> rule(String allowed, java.util.function.Predicate<T> check) {
            this.allowed = allowed;
            this.rule = v -> check.test(v) ? null : "expected " + allowed;
            return this;
        }

        /**
         * Marks the key as changeable at run time.
         *
         * @return this builder
         */
        public Builder<T> dynamic() {
            this.dynamic = true;
            return this;
        }

        /**
         * Marks the value as secret: never logged or shown.
         *
         * @return this builder
         */
        public Builder<T> secret() {
            this.secret = true;
            return this;
        }

        /**
         * What the key does, shown in the configuration reference.
         *
         * @param description one or more sentences
         * @return this builder
         */
        public Builder<T> description(String description) {
            this.description = description;
            return this;
        }

        /**
         * The key.
         *
         * @return the key
         * @throws IllegalStateException when no default was set
         */
        public ConfigKey<T> build() {
            if (defaults == null) {
                throw new IllegalStateException(name + ": no default");
            }
            return new ConfigKey<>(this);
        }
    }
}
