package io.dwcp.transport.netty;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The state of one session, changed only by compare-and-set transitions so that no late event can undo a close:
 *
 * <pre>
 *   CONNECTING ──open──▶ OPEN ──lost──▶ RECONNECTING ──resumed──▶ OPEN
 *        │                 │                  │
 *        └────────── closing / closed (from any state; CLOSED is final) ──────────▶ CLOSING ─▶ CLOSED
 * </pre>
 *
 * <p>A connection that completes after the session closed (a resume, a data stream) finds {@link #opened} or
 * {@link #resumed} false and must close itself; {@link #close} returns true exactly once. Lock-free; any thread.
 */
final class SessionLifecycle {
    enum State { CONNECTING, OPEN, RECONNECTING, CLOSING, CLOSED }

    private final AtomicReference<State> state = new AtomicReference<>(State.CONNECTING);

    State get() {
        return state.get();
    }

    /** Whether the session may still carry transfers (not closing or closed). */
    boolean isLive() {
        State s = state.get();
        return s == State.OPEN || s == State.RECONNECTING || s == State.CONNECTING;
    }

    /** Whether a local or final close began. */
    boolean isClosingOrClosed() {
        State s = state.get();
        return s == State.CLOSING || s == State.CLOSED;
    }

    /** CONNECTING → OPEN (handshake and probes done). False if the session was closed meanwhile. */
    boolean opened() {
        return state.compareAndSet(State.CONNECTING, State.OPEN);
    }

    /** OPEN → RECONNECTING (the client lost its control connection). False in any other state. */
    boolean lost() {
        return state.compareAndSet(State.OPEN, State.RECONNECTING);
    }

    /** RECONNECTING → OPEN (the control connection was resumed). False if the session was closed meanwhile. */
    boolean resumed() {
        return state.compareAndSet(State.RECONNECTING, State.OPEN);
    }

    /** Whether the session is still reconnecting (a resume attempt may go on). */
    boolean reconnecting() {
        return state.get() == State.RECONNECTING;
    }

    /** Any live state → CLOSING (a graceful close drains first). False if closing or closed already. */
    boolean closing() {
        while (true) {
            State s = state.get();
            if (s == State.CLOSING || s == State.CLOSED) {
                return false;
            }
            if (state.compareAndSet(s, State.CLOSING)) {
                return true;
            }
        }
    }

    /** Any state → CLOSED. True for the one caller that closed it; the state never leaves CLOSED. */
    boolean close() {
        return state.getAndSet(State.CLOSED) != State.CLOSED;
    }

    @Override
    public String toString() {
        return state.get().toString();
    }
}
