package io.dwcp.consensus;

/*
 * Where a RatisConsensus publishes its running group, and why there is none. Both fields are written only by
 * RatisConsensus.start and stop, under that component's lock, and read without it by every operation (CommandPath) and
 * by the re-opening of a division (DivisionRetimer): hence volatile. `running == r` is how an operation that captured
 * `r` asks whether the component still runs with it (false once stopped, or after a restart).
 */
final class GroupSlot {
    /** The started group; null while not started, disabled, inactive or stopped. */
    volatile RunningGroup running;
    /** Why {@link #running} is null, for the ILLEGAL_STATE message and the health report. */
    volatile String inactiveReason = "not started";
}
