package io.dwcp.core.spi;

import io.dwcp.core.DataRate;
import io.dwcp.core.Tier;
import io.dwcp.core.state.DirtyPages;

import java.util.Optional;
import io.dwcp.core.ProgressListener;

/**
 * How to encode one round. Immutable; built with {@link #builder()}.
 */
public final class EncodeOptions {
    private final BaselineRef peerBaseline;
    private final DirtyPages dirtyPages;
    private final boolean forceKeyframe;
    private final Tier tier;
    private final DataRate linkRate;
    private final String peer;
    private final ProgressListener progress;

    private EncodeOptions(Builder b) {
        this.peerBaseline = b.peerBaseline;
        this.dirtyPages = b.dirtyPages;
        this.forceKeyframe = b.forceKeyframe;
        this.tier = b.tier;
        this.linkRate = b.linkRate;
        this.peer = b.peer;
        this.progress = b.progress;
    }

    /** @return a builder with no baseline, no dirty pages, the WAN tier and no progress listener */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return options for a keyframe (full state) with defaults} */
    public static EncodeOptions keyframe() {
        return builder().forceKeyframe(true).build();
    }

    /**
     * The baseline the receiver confirmed holding. A delta is encoded only against it; when empty, or when the codec
     * no longer has it, the round is a keyframe.
     *
     * @return the baseline, or empty for a keyframe
     */
    public Optional<BaselineRef> peerBaseline() {
        return Optional.ofNullable(peerBaseline);
    }

    /**
     * Pages the caller knows changed since the peer's baseline; empty means "compare every page with the baseline".
     * Pages outside the set are trusted to be unchanged.
     *
     * @return the dirty pages, or empty when unknown
     */
    public Optional<DirtyPages> dirtyPages() {
        return Optional.ofNullable(dirtyPages);
    }

    /** @return whether a keyframe is sent even when a delta is possible */
    public boolean forceKeyframe() {
        return forceKeyframe;
    }

    /** {@return tier of the path, which sets the compression ceiling} */
    public Tier tier() {
        return tier;
    }

    /**
     * {@return measured or configured link rate, used to pick a level that keeps the codec faster than the link
     *}
     */
    public Optional<DataRate> linkRate() {
        return Optional.ofNullable(linkRate);
    }

    /**
     * The peer the round goes to, as the path monitor names it ({@link io.dwcp.core.path.PathSample#peerName}): the
     * codec may read the bandwidth forecast of that path ({@link ForecastAdvisor}) to plan its level.
     *
     * @return the peer, or empty when unknown (then only {@link #linkRate()} plans the level)
     */
    public Optional<String> peer() {
        return Optional.ofNullable(peer);
    }

    /** @return the listener told of encoding progress, never {@code null} */
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
        private String peer;
        private ProgressListener progress = ProgressListener.NONE;

        private Builder() {
        }

        /**
         * The baseline the receiver holds, for a delta; {@code null} (the default) for a keyframe.
         *
         * @param ref the value
         * @return this builder
         */
        public Builder peerBaseline(BaselineRef ref) {
            this.peerBaseline = ref;
            return this;
        }

        /**
         * The pages changed since the baseline, when the caller tracks them; {@code null} when unknown.
         *
         * @param dirty the value
         * @return this builder
         */
        public Builder dirtyPages(DirtyPages dirty) {
            this.dirtyPages = dirty;
            return this;
        }

        /**
         * Whether to send a keyframe even when a delta is possible (default false).
         *
         * @param force the value
         * @return this builder
         */
        public Builder forceKeyframe(boolean force) {
            this.forceKeyframe = force;
            return this;
        }

        /**
         * The path's tier, which sets the compression ceiling (default WAN); not {@code null}.
         *
         * @param tier the value
         * @return this builder
         */
        public Builder tier(Tier tier) {
            this.tier = java.util.Objects.requireNonNull(tier, "tier");
            return this;
        }

        /**
         * The measured or configured link rate; {@code null} when unknown.
         *
         * @param rate the value
         * @return this builder
         */
        public Builder linkRate(DataRate rate) {
            this.linkRate = rate;
            return this;
        }

        /**
         * The peer the round goes to, as the path monitor names it; {@code null} (the default) when unknown.
         *
         * @param peer the value
         * @return this builder
         */
        public Builder peer(String peer) {
            this.peer = peer;
            return this;
        }

        /**
         * The listener told of encoding progress; not {@code null}.
         *
         * @param progress the value
         * @return this builder
         */
        public Builder progress(ProgressListener progress) {
            this.progress = java.util.Objects.requireNonNull(progress, "progress");
            return this;
        }

        /** @return the options */
        public EncodeOptions build() {
            return new EncodeOptions(this);
        }
    }
}
