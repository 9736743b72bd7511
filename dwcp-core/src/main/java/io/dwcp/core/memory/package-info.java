/**
 * Off-heap memory helpers shared by the modules: direct buffers that are freed when their owner is done with them,
 * not when the garbage collector gets to them.
 */
package io.dwcp.core.memory;
