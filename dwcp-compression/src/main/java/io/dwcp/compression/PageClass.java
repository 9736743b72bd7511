package io.dwcp.compression;

import java.util.LinkedHashMap;
import java.util.Map;

/** The classes a page of a round falls into, as reported in {@code EncodeResult.pagesByClass()} and metrics. */
enum PageClass {
    ZERO("zero"),
    UNCHANGED("unchanged"),
    MOVED("moved"),
    DUPLICATE("duplicate"),
    XOR("xor"),
    /** Assembled from sub-page copies of the baseline plus literal bytes ({@link Splice}). */
    SPLICE("splice"),
    LITERAL("literal"),
    /** Pages of batches sent without entropy coding because they did not compress; also counted above. */
    STORED("stored");

    final String word;

    PageClass(String word) {
        this.word = word;
    }

    static Map<String, Long> toMap(long[] counts) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (PageClass c : values()) {
            m.put(c.word, counts[c.ordinal()]);
        }
        return m;
    }
}
