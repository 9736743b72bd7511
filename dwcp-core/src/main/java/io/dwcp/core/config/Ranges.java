package io.dwcp.core.config;

import io.dwcp.core.DataRate;
import io.dwcp.core.DataSize;

import java.time.Duration;
import java.util.Optional;

/** Range rules shared by the schema classes. */
final class Ranges {
    private Ranges() {
    }

    static <T> ConfigKey.Builder<Integer> ints(ConfigKey.Builder<Integer> b, int min, int max) {
        return b.rule(min + "–" + max, v -> v >= min && v <= max);
    }

    static ConfigKey.Builder<Double> doubles(ConfigKey.Builder<Double> b, double min, double max) {
        return b.rule(fmt(min) + "–" + fmt(max), v -> v >= min && v <= max);
    }

    static ConfigKey.Builder<Duration> durations(ConfigKey.Builder<Duration> b, String min, String max) {
        Duration lo = ValueType.parseDuration(min);
        Duration hi = ValueType.parseDuration(max);
        return b.rule(min + "–" + max, v -> v.compareTo(lo) >= 0 && v.compareTo(hi) <= 0);
    }

    static ConfigKey.Builder<DataSize> sizes(ConfigKey.Builder<DataSize> b, String min, String max, long multipleOf) {
        long lo = DataSize.parse(min).bytes();
        long hi = DataSize.parse(max).bytes();
        String text = min + "–" + max + (multipleOf > 1 ? ", a multiple of " + DataSize.format(multipleOf) : "");
        return b.rule(text, v -> v.bytes() >= lo && v.bytes() <= hi && v.bytes() % multipleOf == 0);
    }

    static ConfigKey.Builder<DataSize> powerOfTwoSizes(ConfigKey.Builder<DataSize> b, String min, String max) {
        long lo = DataSize.parse(min).bytes();
        long hi = DataSize.parse(max).bytes();
        return b.rule(min + "–" + max + ", a power of 2",
                v -> v.bytes() >= lo && v.bytes() <= hi && Long.bitCount(v.bytes()) == 1);
    }

    static ConfigKey.Builder<Optional<DataSize>> optionalSizes(ConfigKey.Builder<Optional<DataSize>> b, String word,
                                                               String min, String max) {
        long lo = DataSize.parse(min).bytes();
        long hi = DataSize.parse(max).bytes();
        return b.rule(word + " or " + min + "–" + max,
                v -> v.isEmpty() || (v.get().bytes() >= lo && v.get().bytes() <= hi));
    }

    static ConfigKey.Builder<Optional<DataRate>> optionalRates(ConfigKey.Builder<Optional<DataRate>> b) {
        return b.rule("none or a rate > 0", v -> true);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
