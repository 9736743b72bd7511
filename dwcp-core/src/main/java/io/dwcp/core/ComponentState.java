package io.dwcp.core;

/**
 * Lifecycle state of a component or of the manager: NEW → STARTING → RUNNING → STOPPING → STOPPED, any →
 * FAILED; STOPPED and FAILED may start again.
 */
public enum ComponentState {
    /** Built, never started. */
    NEW,
    /** Starting: binding sockets, starting threads. */
    STARTING,
    /** Started and serving. */
    RUNNING,
    /** Stopping: releasing threads, channels and memory. */
    STOPPING,
    /** Stopped cleanly; may start again. */
    STOPPED,
    /** Failed to start, to stop or while running; may start again. */
    FAILED
}
