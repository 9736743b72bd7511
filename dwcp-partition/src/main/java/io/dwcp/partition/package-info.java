/**
 * ITP: a pure-Java multilevel k-way graph partitioner ({@link io.dwcp.partition.MultilevelPartitioner}), a reader of
 * the METIS graph format ({@link io.dwcp.partition.MetisGraphReader}), and the placer that maps VMs onto sites with
 * it and plans the migrations ({@link io.dwcp.partition.ItpPlacementProvider}). The public types are the graph, the
 * reader, the partitioner with its options and result, and the provider; everything else is internal.
 */
package io.dwcp.partition;
