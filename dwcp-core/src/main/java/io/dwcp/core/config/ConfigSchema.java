package io.dwcp.core.config;

import io.dwcp.core.DataSize;
import io.dwcp.core.Tier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The whole configuration schema: every key of every section, and the rules that span keys. One source for parsing,
 * validation and the generated reference in {@code docs/configuration.md}.
 */
public final class ConfigSchema {
    private static final Map<String, ConfigKey<?>> BY_NAME;

    static {
        Map<String, ConfigKey<?>> m = new LinkedHashMap<>();
        for (List<ConfigKey<?>> section : List.of(CoreKeys.KEYS, TransportKeys.KEYS, CompressionKeys.KEYS, PredictionKeys.KEYS, PartitionKeys.KEYS, SyncKeys.KEYS, ConsensusKeys.KEYS)) {
            for (ConfigKey<?> k : section) {
                if (m.put(k.name(), k) != null) {
                    throw new ExceptionInInitializerError("duplicate configuration key " + k.name());
                }
            }
        }
        BY_NAME = Collections.unmodifiableMap(m);
    }

    private ConfigSchema() {
    }

    /** {@return every key, in reference order} */
    public static List<ConfigKey<?>> keys() {
        return List.copyOf(BY_NAME.values());
    }

    /**
     * The key with this property-form name, or {@code null}.
     *
     * @param name the name, e.g. {@code dwcp.transport.max-streams}
     * @return the key, or {@code null}
     */
    public static ConfigKey<?> key(String name) {
        return BY_NAME.get(name);
    }

    /** The known key closest to an unknown name (Levenshtein), for "did you mean" hints. */
    static String nearest(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String known : BY_NAME.keySet()) {
            int d = distance(name, known);
            if (d < bestDistance) {
                bestDistance = d;
                best = known;
            }
        }
        return best;
    }

    /** Violations of rules that span keys, for one tier's effective values. */
    static List<String> crossKeyViolations(Function<ConfigKey<?>, Object> value, Tier tier) {
        List<String> out = new ArrayList<>();
        int min = (Integer) value.apply(TransportKeys.MIN_STREAMS);
        int initial = (Integer) value.apply(TransportKeys.INITIAL_STREAMS);
        int max = (Integer) value.apply(TransportKeys.MAX_STREAMS);
        if (!(min <= initial && initial <= max)) {
            out.add(String.format("dwcp.transport.min-streams (%d) ≤ initial-streams (%d) ≤ max-streams (%d) does not hold on the %s tier: "
                    + "raise max-streams or lower min/initial-streams", min, initial, max, tier.word()));
        }
        long minChunk = ((DataSize) value.apply(TransportKeys.MIN_CHUNK)).bytes();
        long chunk = ((DataSize) value.apply(TransportKeys.CHUNK_SIZE)).bytes();
        long maxChunk = ((DataSize) value.apply(TransportKeys.MAX_CHUNK)).bytes();
        if (!(minChunk <= chunk && chunk <= maxChunk)) {
            out.add(String.format("dwcp.transport.min-chunk (%s) ≤ chunk-size (%s) ≤ max-chunk (%s) does not hold on the %s tier",
                    DataSize.format(minChunk), DataSize.format(chunk),
                    DataSize.format(maxChunk), tier.word()));
        }
        long maxFrame = ((DataSize) value.apply(TransportKeys.MAX_FRAME_PAYLOAD)).bytes();
        if (maxFrame < maxChunk) {
            out.add(String.format("dwcp.transport.max-frame-payload (%s) must be ≥ max-chunk (%s)",
                    DataSize.format(maxFrame), DataSize.format(maxChunk)));
        }
        Duration initialBackoff = (Duration) value.apply(TransportKeys.RECONNECT_INITIAL_BACKOFF);
        Duration maxBackoff = (Duration) value.apply(TransportKeys.RECONNECT_MAX_BACKOFF);
        if (initialBackoff.compareTo(maxBackoff) > 0) {
            out.add("dwcp.transport.reconnect.initial-backoff (" + ValueType.formatDuration(initialBackoff)
                    + ") must be ≤ reconnect.max-backoff (" + ValueType.formatDuration(maxBackoff) + ")");
        }
        Duration local = (Duration) value.apply(CoreKeys.TIER_LOCAL_MAX_RTT);
        Duration regional = (Duration) value.apply(CoreKeys.TIER_REGIONAL_MAX_RTT);
        if (regional.compareTo(local) <= 0) {
            out.add("dwcp.tier.regional-max-rtt (" + ValueType.formatDuration(regional) + ") must be > tier.local-max-rtt ("
                    + ValueType.formatDuration(local) + ")");
        }
        Duration refresh = (Duration) value.apply(CompressionKeys.REFRESH_INTERVAL);
        Duration maxAge = (Duration) value.apply(CompressionKeys.MAX_AGE);
        if (maxAge.compareTo(refresh) < 0) {
            out.add("dwcp.compression.max-age (" + ValueType.formatDuration(maxAge) + ") must be ≥ refresh-interval ("
                    + ValueType.formatDuration(refresh) + ")");
        }
        long batch = ((DataSize) value.apply(CompressionKeys.BATCH_SIZE)).bytes();
        long maxDecoded = ((DataSize) value.apply(CompressionKeys.MAX_DECODED_FRAME)).bytes();
        if (maxDecoded < batch) {
            out.add("dwcp.compression.max-decoded-frame (" + DataSize.format(maxDecoded) + ") must be ≥ batch-size ("
                    + DataSize.format(batch) + ")");
        }
        out.addAll(PredictionKeys.crossKeyViolations(value));
        Duration electionMin = (Duration) value.apply(ConsensusKeys.ELECTION_MIN);
        Duration electionMax = (Duration) value.apply(ConsensusKeys.ELECTION_MAX);
        if (electionMax.compareTo(electionMin) <= 0) {
            out.add("dwcp.consensus.election.max (" + ValueType.formatDuration(electionMax) + ") must be > election.min ("
                    + ValueType.formatDuration(electionMin) + ") on the " + tier.word() + " tier");
        }
        out.addAll(SyncKeys.crossKeyViolations(value, tier));
        return out;
    }

    /** {@return the configuration reference as a Markdown table, generated from the schema} */
    public static String markdownReference() {
        StringBuilder sb = new StringBuilder();
        sb.append("| key | type | default | allowed | dynamic | meaning |\n|---|---|---|---|---|---|\n");
        for (ConfigKey<?> k : BY_NAME.values()) {
            sb.append("| `").append(k.name()).append("` | ").append(k.type().name()).append(" | `")
                    .append(k.defaultText()).append("` | ").append(k.allowed()).append(" | ")
                    .append(k.dynamic() ? "yes" : "").append(" | ").append(k.description()).append(" |\n");
        }
        return sb.toString();
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
