/**
 * AMST's controllers as plain, clock-free logic: the shared token bucket (AMST-9), the adaptive stream count
 * (AMST-7), the chunk sizer (AMST-8) and reconnect backoff (AMST-10). Time is passed in, so tests drive them without
 * sockets or sleeps. Internal to {@code dwcp-transport}: public only for the Netty layer, no compatibility promise.
 */
package io.dwcp.transport.control;
