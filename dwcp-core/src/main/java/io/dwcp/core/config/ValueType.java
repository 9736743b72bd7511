package io.dwcp.core.config;

import io.dwcp.core.DataRate;
import io.dwcp.core.DataSize;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * How a configuration value is written as text and read back. Dimensioned types refuse bare numbers.
 *
 * @param <T> the Java type of the value
 */
public final class ValueType<T> {
    /** 32-bit integers. */
    public static final ValueType<Integer> INT = new ValueType<>("integer", Integer.class, s -> Integer.valueOf(s.trim()), String::valueOf);
    /** 64-bit integers. */
    public static final ValueType<Long> LONG = new ValueType<>("integer", Long.class, s -> Long.valueOf(s.trim()), String::valueOf);
    /** Decimal numbers. */
    public static final ValueType<Double> DOUBLE = new ValueType<>("number", Double.class, s -> Double.valueOf(s.trim()), String::valueOf);
    /** {@code true} or {@code false}. */
    public static final ValueType<Boolean> BOOLEAN = new ValueType<>("boolean", Boolean.class, ValueType::parseBoolean, String::valueOf);
    /** Text, trimmed. */
    public static final ValueType<String> STRING = new ValueType<>("string", String.class, String::trim, s -> s);
    /** Durations written {@code 250ms}, {@code 5s}, {@code 10m}, {@code 1h}, {@code 7d} (or ISO-8601 {@code PT5S}). */
    public static final ValueType<Duration> DURATION = new ValueType<>("duration", Duration.class, ValueType::parseDuration, ValueType::formatDuration);
    /** Byte counts written with a unit: {@code 256KiB}. */
    public static final ValueType<DataSize> SIZE = new ValueType<>("size", DataSize.class, DataSize::parse, DataSize::toString);
    /** Rates written with a unit: {@code 400Mbit/s}, {@code 50MB/s}. */
    public static final ValueType<DataRate> RATE = new ValueType<>("rate", DataRate.class, DataRate::parse, DataRate::toString);

    private final String name;
    private final Class<?> javaType;
    private final Function<String, T> parser;
    private final Function<T, String> formatter;

    private ValueType(String name, Class<?> javaType, Function<String, T> parser, Function<T, String> formatter) {
        this.name = name;
        this.javaType = javaType;
        this.parser = parser;
        this.formatter = formatter;
    }

    /**
     * An optional value whose absence is written as {@code word} ({@code none} or {@code auto}).
     *
     * @param inner the type of a present value
     * @param word the word of an absent value (e.g. {@code none})
     * @param <T> the Java type of a present value
     * @return the type
     */
    public static <T> ValueType<Optional<T>> optional(ValueType<T> inner, String word) {
        Objects.requireNonNull(word, "word");
        return new ValueType<>(inner.name + " or " + word, Optional.class,
                s -> s.trim().equalsIgnoreCase(word) ? Optional.empty() : Optional.of(inner.parse(s)),
                o -> o.map(inner::format).orElse(word));
    }

    /**
     * Human name used in messages, e.g. {@code "duration"}.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Parses text; throws {@link IllegalArgumentException} with a message that says the accepted form.
     *
     * @param text the text
     * @return the value
     */
    public T parse(String text) {
        Objects.requireNonNull(text, "text");
        try {
            return parser.apply(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a " + name, e);
        }
    }

    /**
     * The canonical text of a value (parses back to an equal value).
     *
     * @param value the value
     * @return the text
     */
    public String format(T value) {
        return formatter.apply(value);
    }

    /** Whether {@code value} is an instance this type accepts. */
    boolean accepts(Object value) {
        return javaType.isInstance(value);
    }

    private static Boolean parseBoolean(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("true")) {
            return Boolean.TRUE;
        }
        if (t.equals("false")) {
            return Boolean.FALSE;
        }
        throw new IllegalArgumentException("'" + s + "' is not a boolean: write true or false");
    }

    static Duration parseDuration(String text) {
        String s = text.trim();
        if (s.startsWith("P") || s.startsWith("p")) {
            return Duration.parse(s);
        }
        int i = 0;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
            i++;
        }
        String number = s.substring(0, i);
        String unit = s.substring(i).trim().toLowerCase(Locale.ROOT);
        if (number.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration: write e.g. 250ms, 5s, 10m, 1h");
        }
        if (unit.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' has no unit: write e.g. " + number + "ms or " + number + "s");
        }
        long nanosPerUnit;
        switch (unit) {
            case "ns": nanosPerUnit = 1L; break;
            case "us": nanosPerUnit = 1_000L; break;
            case "ms": nanosPerUnit = 1_000_000L; break;
            case "s": nanosPerUnit = 1_000_000_000L; break;
            case "m": case "min": nanosPerUnit = 60_000_000_000L; break;
            case "h": nanosPerUnit = 3_600_000_000_000L; break;
            case "d": nanosPerUnit = 86_400_000_000_000L; break;
            default:
                throw new IllegalArgumentException("'" + text + "' has unknown duration unit '" + unit + "': use ms, s, m, h or d");
        }
        java.math.BigDecimal nanos = new java.math.BigDecimal(number).multiply(java.math.BigDecimal.valueOf(nanosPerUnit));
        return Duration.ofNanos(nanos.setScale(0, java.math.RoundingMode.HALF_UP).longValueExact());
    }

    static String formatDuration(Duration d) {
        long nanos = d.toNanos();
        String[] units = {"d", "h", "m", "s", "ms", "us"};
        long[] sizes = {86_400_000_000_000L, 3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L};
        for (int i = 0; i < units.length; i++) {
            if (nanos != 0 && nanos % sizes[i] == 0) {
                return (nanos / sizes[i]) + units[i];
            }
        }
        return nanos + "ns";
    }

    @Override
    public String toString() {
        return name;
    }
}
