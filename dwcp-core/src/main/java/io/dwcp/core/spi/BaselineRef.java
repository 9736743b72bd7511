package io.dwcp.core.spi;

import java.util.Objects;

/**
 * Names one baseline of one key: what a delta frame was encoded against, and what a receiver holds. Two ends
 * agree on a baseline only when id, version and digest all match.
 *
 * @param key state key
 * @param id baseline chain id (a new id starts with every keyframe)
 * @param version position in the chain (0 = the keyframe, then 1 per delta)
 * @param digest 64-bit digest of the baseline's content
 */
public record BaselineRef(String key, long id, long version, long digest) {
    /**
     * Checks the components.
     *
     * @param key state key
     * @param id baseline chain id (a new id starts with every keyframe)
     * @param version position in the chain (0 = the keyframe, then 1 per delta)
     * @param digest 64-bit digest of the baseline's content
     */
    public BaselineRef {
        Objects.requireNonNull(key, "key");
    }

    @Override
    public String toString() {
        return "BaselineRef{" + key + " id=" + Long.toHexString(id) + " v" + version + " digest=" + Long.toHexString(digest) + "}";
    }
}
