package io.dwcp.core.config;

import io.dwcp.core.DataSize;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Keys of the state codec provider, HDE. */
public final class CompressionKeys {
    private static final Pattern LEVEL = Pattern.compile("none|zstd:(-?\\d+)");

    private CompressionKeys() {
    }

    /**
     * Whether {@code text} is a level word: {@code none} or {@code zstd:-7} … {@code zstd:19}.
     *
     * @param text the text
     * @return whether it is a level word
     */
    public static boolean isLevel(String text) {
        Matcher m = LEVEL.matcher(text);
        if (!m.matches()) {
            return false;
        }
        if (m.group(1) == null) {
            return true;
        }
        int level = Integer.parseInt(m.group(1));
        return level >= -7 && level <= 19 && level != 0;
    }

    private static boolean isAbsolutePath(String p) {
        try {
            return java.nio.file.Path.of(p).isAbsolute();
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    private static ConfigKey<String> level(String tier, String def) {
        return ConfigKey.builder("dwcp.compression.level." + tier, ValueType.STRING).defaultValue(def)
                .rule("none, zstd:-7 … zstd:19 (not zstd:0)", CompressionKeys::isLevel).dynamic()
                .description("Compression ceiling on the " + tier + " tier.").build();
    }

    /** Key {@code dwcp.compression.enabled}: Off = stored frames (still checksummed). */
    public static final ConfigKey<Boolean> ENABLED = ConfigKey.builder("dwcp.compression.enabled", ValueType.BOOLEAN)
            .defaultValue(true).description("Off = stored frames (still checksummed).").build();

    /** Key {@code dwcp.compression.batch-size}: Entropy-coding unit. */
    public static final ConfigKey<DataSize> BATCH_SIZE = Ranges.sizes(
            ConfigKey.builder("dwcp.compression.batch-size", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(1)), "64KiB", "4MiB", 1)
            .description("Entropy-coding unit.").build();

    /** Key {@code dwcp.compression.level.local}: Compression ceiling on the local tier. */
    public static final ConfigKey<String> LEVEL_LOCAL = level("local", "none");
    /** Key {@code dwcp.compression.level.regional}: Compression ceiling on the regional tier. */
    public static final ConfigKey<String> LEVEL_REGIONAL = level("regional", "zstd:3");
    /** Key {@code dwcp.compression.level.wan}: Compression ceiling on the wan tier. */
    public static final ConfigKey<String> LEVEL_WAN = level("wan", "zstd:9");

    /** Key {@code dwcp.compression.delta.enabled}: Page and blob deltas against the key's baseline. */
    public static final ConfigKey<Boolean> DELTA_ENABLED = ConfigKey.builder("dwcp.compression.delta.enabled", ValueType.BOOLEAN)
            .defaultValue(true).description("Page and blob deltas against the key's baseline.").build();

    /**
     * Key {@code dwcp.compression.splice}: Sub-page copies from anywhere in the baseline and from pages sent earlier in
     * the same round (SPLICE). The sender indexes each keyframe in the background: 64 MiB for a 1 GiB state (at most
     * 128 MiB), about 1 s of one core per GiB; each delta round indexes its new pages (at most 8 MiB) and cuts its
     * batches at 4 × batch-size. auto = on with 4 or more codec threads; with fewer, on in the rounds whose zstd level is
     * 3 or more (the level controller spends CPU on ratio only where the link, not the CPU, is the bottleneck, and uses
     * the ceiling without a link rate), off in the others (a CPU-bound migration over a fast link).
     */
    public static final ConfigKey<String> SPLICE = ConfigKey.builder("dwcp.compression.splice", ValueType.STRING)
            .defaultValue("auto")
            .rule("auto, on or off", v -> java.util.List.of("auto", "on", "off").contains(v))
            .description("Sub-page copies from anywhere in the baseline and from pages sent earlier in the same round "
                    + "(SPLICE). The sender indexes each keyframe in the background: 64 MiB for a 1 GiB state (at most "
                    + "128 MiB), about 1 s of one core per GiB; each delta round indexes its new pages (at most 8 MiB) "
                    + "and cuts its batches at 4 × batch-size. auto = on with 4 or more codec threads; with fewer, on in "
                    + "the rounds whose zstd level is 3 or more (the level controller spends CPU on ratio only where the "
                    + "link, not the CPU, is the bottleneck, and uses the ceiling without a link rate), off in the others "
                    + "(a CPU-bound migration over a fast link).").build();

    /** Key {@code dwcp.compression.refresh-interval}: Baseline age that forces a keyframe. */
    public static final ConfigKey<Duration> REFRESH_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.compression.refresh-interval", ValueType.DURATION).defaultValue(Duration.ofMinutes(5)), "1s", "24h")
            .description("Baseline age that forces a keyframe.").build();

    /** Key {@code dwcp.compression.max-delta-chain}: Deltas before a keyframe. */
    public static final ConfigKey<Integer> MAX_DELTA_CHAIN = Ranges.ints(
            ConfigKey.builder("dwcp.compression.max-delta-chain", ValueType.INT).defaultValue(10), 1, 1000)
            .description("Deltas before a keyframe.").build();

    /** Key {@code dwcp.compression.max-age}: Never use a baseline older than this; ≥ refresh-interval. */
    public static final ConfigKey<Duration> MAX_AGE = Ranges.durations(
            ConfigKey.builder("dwcp.compression.max-age", ValueType.DURATION).defaultValue(Duration.ofMinutes(15)), "1s", "7d")
            .description("Never use a baseline older than this; ≥ refresh-interval.").build();

    /** Key {@code dwcp.compression.prune-interval}: Baseline pruner period. */
    public static final ConfigKey<Duration> PRUNE_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.compression.prune-interval", ValueType.DURATION).defaultValue(Duration.ofMinutes(1)), "1s", "1h")
            .description("Baseline pruner period.").build();

    /** Key {@code dwcp.compression.keyframe-ratio}: Delta ÷ stand-alone size that forces a keyframe. */
    public static final ConfigKey<Double> KEYFRAME_RATIO = Ranges.doubles(
            ConfigKey.builder("dwcp.compression.keyframe-ratio", ValueType.DOUBLE).defaultValue(0.7), 0.1, 1.0)
            .description("Delta ÷ stand-alone size that forces a keyframe.").build();

    /**
     * Key {@code dwcp.compression.baseline.max-memory}: LRU cap over the direct memory of the baselines of all keys.
     * Baselines in files (the receiver's replica, a temporary file, a sender's snapshot views) are not counted and
     * never evicted for it.
     */
    public static final ConfigKey<DataSize> BASELINE_MAX_MEMORY = Ranges.sizes(
            ConfigKey.builder("dwcp.compression.baseline.max-memory", ValueType.SIZE).defaultValue(DataSize.ofGibibytes(1)), "16MiB", "1TiB", 1)
            .description("LRU cap over the direct memory of the baselines of all keys. Baselines in files (the receiver's replica, a temporary file, a sender's snapshot views) are not counted and never evicted for it.").build();

    /**
     * Key {@code dwcp.compression.staging-dir}: where a baseline above {@code baseline.max-memory} is kept (a deleted
     * temporary file, mapped); {@code tmpdir} = {@code java.io.tmpdir}.
     */
    public static final ConfigKey<Optional<String>> STAGING_DIR = ConfigKey.builder("dwcp.compression.staging-dir",
                    ValueType.optional(ValueType.STRING, "tmpdir"))
            .defaultValue(Optional.empty())
            .rule("tmpdir, or an absolute directory path", v -> v.isEmpty() || isAbsolutePath(v.get()))
            .description("Where a baseline above baseline.max-memory is kept (a deleted temporary file, mapped; tmpdir ="
                    + " java.io.tmpdir). On a RAM file system (/dev/shm) it stays in memory; on a disk its pages may be"
                    + " written back and evicted, and a later round then reads them from the disk.").build();

    /** Key {@code dwcp.compression.index.max-memory}: heap budget of one baseline's similarity index. */
    public static final ConfigKey<DataSize> INDEX_MAX_MEMORY = Ranges.sizes(
            ConfigKey.builder("dwcp.compression.index.max-memory", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(256)), "1MiB", "16GiB", 1)
            .description("Memory a sender's similarity index of one baseline may take, outside the Java heap (it finds"
                    + " edited copies of other pages: 32 to 64 MiB per GiB of non-zero pages). Past it the index covers"
                    + " every n-th page only, so it stays within the budget and the ratio degrades gently instead of"
                    + " memory growing with the guest.").build();

    /**
     * Key {@code dwcp.compression.adaptive.enabled}: Adaptive level (with a link rate: the least compress + transfer +
     * decompress time among the levels up to the tier's ceiling that keep up with the link) and incompressible bypass.
     */
    public static final ConfigKey<Boolean> ADAPTIVE_ENABLED = ConfigKey.builder("dwcp.compression.adaptive.enabled", ValueType.BOOLEAN)
            .defaultValue(true).description("Adaptive level (with a link rate: the least compress + transfer + decompress "
                    + "time among the levels up to the tier's ceiling that keep up with the link) and incompressible "
                    + "bypass.").build();

    /** Key {@code dwcp.compression.adaptive.min-ratio}: Below this trial ratio a sample is stored raw. */
    public static final ConfigKey<Double> ADAPTIVE_MIN_RATIO = Ranges.doubles(
            ConfigKey.builder("dwcp.compression.adaptive.min-ratio", ValueType.DOUBLE).defaultValue(1.1), 1.0, 10)
            .description("Below this trial ratio a sample is stored raw.").build();

    /** Key {@code dwcp.compression.adaptive.reprobe-interval}. */
    public static final ConfigKey<Duration> ADAPTIVE_REPROBE_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.compression.adaptive.reprobe-interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "1s", "1h").build();

    /** Key {@code dwcp.compression.adjust-interval}: Level controller period. */
    public static final ConfigKey<Duration> ADJUST_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.compression.adjust-interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "1s", "1h")
            .description("Level controller period.").build();

    /**
     * Trained zstd dictionaries are not implemented: on the reference corpus a 112 KiB dictionary trained from
     * another snapshot of the same guest saved nothing on 1 MiB page batches and slowed zstd by 5–25 %.
     */
    /** Key {@code dwcp.compression.max-decoded-frame}: Decompression-bomb guard; ≥ batch-size. */
    public static final ConfigKey<DataSize> MAX_DECODED_FRAME = Ranges.sizes(
            ConfigKey.builder("dwcp.compression.max-decoded-frame", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(64)), "64KiB", "1GiB", 1)
            .description("Decompression-bomb guard; ≥ batch-size.").build();

    static final List<ConfigKey<?>> KEYS = List.of(ENABLED, BATCH_SIZE, LEVEL_LOCAL, LEVEL_REGIONAL, LEVEL_WAN,
            DELTA_ENABLED, SPLICE, REFRESH_INTERVAL, MAX_DELTA_CHAIN, MAX_AGE, PRUNE_INTERVAL, KEYFRAME_RATIO, BASELINE_MAX_MEMORY, STAGING_DIR,
            INDEX_MAX_MEMORY,
            ADAPTIVE_ENABLED, ADAPTIVE_MIN_RATIO, ADAPTIVE_REPROBE_INTERVAL, ADJUST_INTERVAL,
            MAX_DECODED_FRAME);
}
