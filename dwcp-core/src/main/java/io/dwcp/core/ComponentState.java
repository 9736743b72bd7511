package io.dwcp.core;

/**
 * Lifecycle state of a component or of the manager (CORE-4): NEW → STARTING → RUNNING → STOPPING → STOPPED, any →
 * FAILED; STOPPED and FAILED may start again.
 */
public enum ComponentState {
    NEW, STARTING, RUNNING, STOPPING, STOPPED, FAILED
}
