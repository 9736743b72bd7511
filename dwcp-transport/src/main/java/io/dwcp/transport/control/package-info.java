/**
 * AMST's controllers as plain, clock-free logic: the shared token bucket, the adaptive stream count
 *, the chunk sizer and reconnect backoff. Time is passed in, so tests drive them without
 * sockets or sleeps. Internal to {@code dwcp-transport}: public only for the Netty layer, no compatibility promise.
 */
package io.dwcp.transport.control;
