package io.dwcp.core;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * A data rate, held as bits per second. Written {@code 400Mbit/s}, {@code 1Gbit/s} (decimal, bits) or {@code 50MB/s},
 * {@code 64MiB/s} (bytes). Bits and bytes are never mixed in one name: the unit text says which.
 *
 * <p>Immutable and thread-safe.
 */
public final class DataRate implements Comparable<DataRate> {
    private final long bitsPerSecond;

    private DataRate(long bitsPerSecond) {
        if (bitsPerSecond <= 0) {
            throw new IllegalArgumentException("rate must be > 0 bit/s, got " + bitsPerSecond);
        }
        this.bitsPerSecond = bitsPerSecond;
    }

    /**
     * A rate of {@code bitsPerSecond} bit/s.
     *
     * @param bitsPerSecond the rate, more than 0
     * @return the rate
     * @throws IllegalArgumentException when the rate is not positive
     */
    public static DataRate ofBitsPerSecond(long bitsPerSecond) {
        return new DataRate(bitsPerSecond);
    }

    /**
     * A rate of {@code mbit} Mbit/s (10^6 bit/s).
     *
     * @param mbit the rate in Mbit/s, more than 0
     * @return the rate
     * @throws IllegalArgumentException when the rate is not positive
     */
    public static DataRate ofMegabitsPerSecond(long mbit) {
        return new DataRate(Math.multiplyExact(mbit, 1_000_000L));
    }

    /**
     * A rate of {@code bytesPerSecond} bytes per second.
     *
     * @param bytesPerSecond the rate in bytes per second, more than 0
     * @return the rate
     * @throws IllegalArgumentException when the rate is not positive
     */
    public static DataRate ofBytesPerSecond(long bytesPerSecond) {
        return new DataRate(Math.multiplyExact(bytesPerSecond, 8L));
    }

    /** @return the rate in bits per second, more than 0 */
    public long bitsPerSecond() {
        return bitsPerSecond;
    }

    /** {@return bytes per second, rounded down} */
    public long bytesPerSecond() {
        return bitsPerSecond / 8;
    }

    /**
     * Parses {@code <number><unit>/s}: units bit, kbit, Mbit, Gbit, Tbit (decimal bits) and B, KB, MB, GB (decimal
     * bytes), KiB, MiB, GiB (binary bytes). Case matters only for {@code b} (bit) versus {@code B} (byte) when written
     * as a single letter.
     *
     * @param text the text
     * @return the rate
     */
    public static DataRate parse(String text) {
        String s = text.trim();
        if (!s.endsWith("/s")) {
            throw new IllegalArgumentException("'" + text + "' is not a rate: write e.g. 400Mbit/s or 50MB/s");
        }
        s = s.substring(0, s.length() - 2).trim();
        int i = 0;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
            i++;
        }
        String number = s.substring(0, i);
        String unit = s.substring(i).trim();
        if (number.isEmpty() || unit.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not a rate: write e.g. 400Mbit/s or 50MB/s");
        }
        long bitsMultiplier;
        String lower = unit.toLowerCase(Locale.ROOT);
        switch (lower) {
            case "bit": case "bps": bitsMultiplier = 1; break;
            case "kbit": bitsMultiplier = 1_000L; break;
            case "mbit": bitsMultiplier = 1_000_000L; break;
            case "gbit": bitsMultiplier = 1_000_000_000L; break;
            case "tbit": bitsMultiplier = 1_000_000_000_000L; break;
            case "b": bitsMultiplier = unit.equals("B") ? 8 : 1; break;
            case "kb": bitsMultiplier = 8_000L; break;
            case "mb": bitsMultiplier = 8_000_000L; break;
            case "gb": bitsMultiplier = 8_000_000_000L; break;
            case "kib": bitsMultiplier = 8L * DataSize.KIB; break;
            case "mib": bitsMultiplier = 8L * DataSize.MIB; break;
            case "gib": bitsMultiplier = 8L * DataSize.GIB; break;
            default:
                throw new IllegalArgumentException("'" + text + "' has unknown rate unit '" + unit
                        + "/s': use bit, kbit, Mbit, Gbit (bits) or B, KB, MB, GB, KiB, MiB, GiB (bytes) per second");
        }
        BigDecimal bits = new BigDecimal(number).multiply(BigDecimal.valueOf(bitsMultiplier));
        try {
            return new DataRate(bits.setScale(0, java.math.RoundingMode.HALF_UP).longValueExact());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is out of range", e);
        }
    }

    @Override
    public int compareTo(DataRate o) {
        return Long.compare(bitsPerSecond, o.bitsPerSecond);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DataRate && ((DataRate) o).bitsPerSecond == bitsPerSecond;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bitsPerSecond);
    }

    /** {@code 400Mbit/s} style, in the largest decimal bit unit that divides exactly. */
    @Override
    public String toString() {
        String[] units = {"Tbit/s", "Gbit/s", "Mbit/s", "kbit/s"};
        long[] sizes = {1_000_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L};
        for (int i = 0; i < units.length; i++) {
            if (bitsPerSecond % sizes[i] == 0) {
                return (bitsPerSecond / sizes[i]) + units[i];
            }
        }
        return bitsPerSecond + "bit/s";
    }
}
