package io.dwcp.core;

import java.util.Locale;

/**
 * A byte count with binary suffixes: {@code 512B}, {@code 256KiB}, {@code 4MiB}, {@code 1GiB}, {@code 1TiB}. Decimal
 * {@code KB/MB/GB} are accepted as powers of ten. A bare number is rejected: every size names its unit.
 *
 * <p>Immutable and thread-safe.
 */
public final class DataSize implements Comparable<DataSize> {
    /** Bytes in a kibibyte (2^10). */
    public static final long KIB = 1024L;
    /** Bytes in a mebibyte (2^20). */
    public static final long MIB = 1024L * KIB;
    /** Bytes in a gibibyte (2^30). */
    public static final long GIB = 1024L * MIB;
    /** Bytes in a tebibyte (2^40). */
    public static final long TIB = 1024L * GIB;

    private final long bytes;

    private DataSize(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("size must be >= 0 bytes, got " + bytes);
        }
        this.bytes = bytes;
    }

    /**
     * A size of {@code bytes} bytes.
     *
     * @param bytes the size in bytes, at least 0
     * @return the size
     * @throws IllegalArgumentException when {@code bytes} is negative
     */
    public static DataSize ofBytes(long bytes) {
        return new DataSize(bytes);
    }

    /**
     * A size of {@code kib} KiB.
     *
     * @param kib the size in KiB (1024 bytes), at least 0
     * @return the size
     * @throws ArithmeticException when the byte count overflows a {@code long}
     */
    public static DataSize ofKibibytes(long kib) {
        return new DataSize(Math.multiplyExact(kib, KIB));
    }

    /**
     * A size of {@code mib} MiB.
     *
     * @param mib the size in MiB (2^20 bytes), at least 0
     * @return the size
     * @throws ArithmeticException when the byte count overflows a {@code long}
     */
    public static DataSize ofMebibytes(long mib) {
        return new DataSize(Math.multiplyExact(mib, MIB));
    }

    /**
     * A size of {@code gib} GiB.
     *
     * @param gib the size in GiB (2^30 bytes), at least 0
     * @return the size
     * @throws ArithmeticException when the byte count overflows a {@code long}
     */
    public static DataSize ofGibibytes(long gib) {
        return new DataSize(Math.multiplyExact(gib, GIB));
    }

    /** {@return number of bytes} */
    public long bytes() {
        return bytes;
    }

    /**
     * Parses {@code <number><unit>} where unit is one of B, KiB, MiB, GiB, TiB, KB, MB, GB, TB (case-insensitive, an
     * optional space between). Fractions are allowed when they give a whole byte count ({@code 1.5KiB}).
     *
     * @param text the text, e.g. {@code 256KiB}
     * @return the size
     * @throws IllegalArgumentException with a message naming the accepted forms
     */
    public static DataSize parse(String text) {
        String s = text.trim();
        int i = 0;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
            i++;
        }
        String number = s.substring(0, i);
        String unit = s.substring(i).trim().toLowerCase(Locale.ROOT);
        if (number.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not a size: expected e.g. 256KiB, 4MiB, 1GiB");
        }
        if (unit.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' has no unit: write e.g. " + number + "B or " + number + "KiB");
        }
        long multiplier;
        switch (unit) {
            case "b": multiplier = 1; break;
            case "kib": case "k": multiplier = KIB; break;
            case "mib": case "m": multiplier = MIB; break;
            case "gib": case "g": multiplier = GIB; break;
            case "tib": case "t": multiplier = TIB; break;
            case "kb": multiplier = 1_000L; break;
            case "mb": multiplier = 1_000_000L; break;
            case "gb": multiplier = 1_000_000_000L; break;
            case "tb": multiplier = 1_000_000_000_000L; break;
            default:
                throw new IllegalArgumentException("'" + text + "' has unknown size unit '" + unit
                        + "': use B, KiB, MiB, GiB or TiB");
        }
        java.math.BigDecimal value = new java.math.BigDecimal(number).multiply(java.math.BigDecimal.valueOf(multiplier));
        try {
            return new DataSize(value.longValueExact());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is not a whole number of bytes or is too large", e);
        }
    }

    /**
     * Formats a byte count in the largest binary unit that divides it exactly: {@code 262144 -> 256KiB}.
     *
     * @param bytes the byte count
     * @return the text
     */
    public static String format(long bytes) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        long[] sizes = {TIB, GIB, MIB, KIB};
        for (int i = 0; i < units.length; i++) {
            if (bytes != 0 && bytes % sizes[i] == 0) {
                return (bytes / sizes[i]) + units[i];
            }
        }
        return bytes + "B";
    }

    @Override
    public int compareTo(DataSize o) {
        return Long.compare(bytes, o.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DataSize && ((DataSize) o).bytes == bytes;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bytes);
    }

    @Override
    public String toString() {
        return format(bytes);
    }
}
