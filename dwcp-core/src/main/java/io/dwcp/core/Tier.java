package io.dwcp.core;

import java.util.Locale;

/**
 * Classification of the path to one peer. A tier selects defaults; the adaptive controllers then tune from
 * measurements within the tier's limits.
 */
public enum Tier {
    /** Same rack or datacenter: RTT below {@code tier.local-max-rtt} (10 ms). */
    LOCAL,
    /** Metro or same continent: RTT up to {@code tier.regional-max-rtt} (50 ms). */
    REGIONAL,
    /** Inter-region, intercontinental, internet. */
    WAN;

    /**
     * The tier for a configuration word ({@code local}, {@code regional}, {@code wan}), case-insensitive.
     *
     * @param word the word
     * @return the tier
     */
    public static Tier parse(String word) {
        return valueOf(word.trim().toUpperCase(Locale.ROOT));
    }

    /** {@return the configuration word of this tier} */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
