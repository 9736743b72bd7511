package io.dwcp.core.spi;

import io.dwcp.core.DataRate;
import io.dwcp.core.Tier;
import io.dwcp.core.state.DirtyPages;

import java.util.Optional;

/**
 * How to encode one round. Immutable; built with {@link #builder()}.
 */
public final class EncodeOptions {
    private final BaselineRef peerBaseline;
    private final DirtyPages dirtyPages;
    private final boolean forceKeyframe;
    private final Tier tier;
    private final DataRate linkRate;
    private final ProgressListener progress;

    private EncodeOptions(Builder b) {
        this.peerBaseline = b.peerBaseline;
        this.dirtyPages = b.dirtyPages;
        this.forceKeyframe = b.forceKeyframe;
        this.tier = b.tier;
        this.linkRate = b.linkRate;
        this.progress = b.progress;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options for a keyframe (full state) with defaults. */
    public static EncodeOptions keyframe() {
        return builder().forceKeyframe(true).build();
    }

    /**
     * The baseline the receiver confirmed holding. A delta is encoded only against it; when empty, or when the codec
     * no longer has it, the round is a keyframe.
     */
    public Optional<BaselineRef> peerBaseline() {
        return Optional.ofNullable(peerBaseline);
    }

    /**
     * Pages the caller knows changed since the peer's baseline; empty means "compare every page with the baseline".
     * Pages outside the set are trusted to be unchanged.
     */
    public Optional<DirtyPages> dirtyPages() {
        return Optional.ofNullable(dirtyPages);
    }

    public boolean forceKeyframe() {
        return forceKeyframe;
    }

    /** Tier of the path, which sets the compression ceiling (HDE-6). */
    public Tier tier() {
        return tier;
    }

    /** Measured or configured link rate, used to pick a level that keeps the codec faster than the link (HDE-7). */
    public Optional<DataRate> linkRate() {
        return Optional.ofNullable(linkRate);
    }

    public ProgressListener progress() {
        return progress;
    }

    /** Builder of {@link EncodeOptions}. Not thread-safe. */
    public static final class Builder {
        private BaselineRef peerBaseline;
        private DirtyPages dirtyPages;
        private boolean forceKeyframe;
        private Tier tier = Tier.WAN;
        private DataRate linkRate;
        private ProgressListener progress = ProgressListener.NONE;

        private Builder() {
        }

        public Builder peerBaseline(BaselineRef ref) {
            this.peerBaseline = ref;
            return this;
        }

        public Builder dirtyPages(DirtyPages dirty) {
            this.dirtyPages = dirty;
            return this;
        }

        public Builder forceKeyframe(boolean force) {
            this.forceKeyframe = force;
            return this;
        }

        public Builder tier(Tier tier) {
            this.tier = java.util.Objects.requireNonNull(tier, "tier");
            return this;
        }

        public Builder linkRate(DataRate rate) {
            this.linkRate = rate;
            return this;
        }

        public Builder progress(ProgressListener progress) {
            this.progress = java.util.Objects.requireNonNull(progress, "progress");
            return this;
        }

        public EncodeOptions build() {
            return new EncodeOptions(this);
        }
    }
}
