package io.dwcp.compression;

import io.dwcp.core.spi.BaselineRef;

/**
 * Sender side: what the receiver will hold once it decodes the last round of a key, kept until it acknowledges
 * ("the sender references a version only after the receiver acknowledged it"). Either a whole new baseline
 * (keyframe) or the replaced pages of a delta against {@link #base} at {@link #baseVersion}.
 */
final class Pending implements AutoCloseable {
    final BaselineRef ref;
    final Baseline keyframe;
    final Baseline base;
    final long baseVersion;
    final SlotPages slots;
    /** For a delta against a baseline of snapshot views: views of the delta's target, the next baseline's pages. */
    final PageStore targetViews;
    final BaselineStore.Reservation keyframeReservation;

    private Pending(BaselineRef ref, Baseline keyframe, BaselineStore.Reservation reservation, Baseline base,
                    long baseVersion, SlotPages slots, PageStore targetViews) {
        this.ref = ref;
        this.keyframe = keyframe;
        this.keyframeReservation = reservation;
        this.base = base;
        this.baseVersion = baseVersion;
        this.slots = slots;
        this.targetViews = targetViews;
    }

    /** Takes over one reference of {@code keyframe} and its reservation. */
    static Pending keyframe(Baseline keyframe, BaselineStore.Reservation reservation) {
        return new Pending(keyframe.ref(), keyframe, reservation, null, 0, null, null);
    }

    /**
     * Takes ownership of {@code slots} and {@code targetViews} (null unless {@code base} is a store of snapshot views);
     * does not pin {@code base}.
     */
    static Pending delta(BaselineRef ref, Baseline base, long baseVersion, SlotPages slots, PageStore targetViews) {
        return new Pending(ref, null, null, base, baseVersion, slots, targetViews);
    }

    boolean isKeyframe() {
        return keyframe != null;
    }

    /** Releases what this pending round holds (after a commit the keyframe reference belongs to the store). */
    @Override
    public void close() {
        if (keyframe != null) {
            keyframe.release();
        }
        if (slots != null) {
            slots.close();
        }
        if (targetViews != null) {
            targetViews.close();
        }
    }
}
