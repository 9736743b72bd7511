package io.dwcp.core.migration;

import java.util.concurrent.CompletableFuture;

/**
 * The future of a round that {@link MigrationSender#sendRoundAsync} hands to its caller: {@link #cancel} really stops
 * the round through its {@link RoundControl}. The round's transfer is aborted at both ends (the receiver discards what
 * it got: its replica and baseline stay as they were) and its encoder stops. Completed by the sender once the round's
 * work has stopped; thread-safe as any {@link CompletableFuture}.
 */
final class RoundFuture extends CompletableFuture<RoundReport> {
    /** The round's control; final, shared with the round's work. */
    final RoundControl control = new RoundControl();

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled) {
            control.cancel();
        }
        return cancelled;
    }
}
