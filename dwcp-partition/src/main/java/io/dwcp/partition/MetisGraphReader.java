package io.dwcp.partition;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads graphs in the METIS format: {@code %} comment lines, a header {@code n m [fmt [ncon]]}, then one line per
 * vertex listing its 1-based neighbours (each followed by the edge weight when the last digit of {@code fmt} is 1,
 * preceded by the vertex weight when the middle digit is 1, and by a vertex size — read and ignored — when the first
 * digit is 1). An empty line is a vertex without neighbours.
 *
 * <p>Malformed input fails with an {@link IllegalArgumentException} whose message starts with {@code file:line:} and
 * names the problem: a bad header, a count that does not match, a neighbour out of range, a self-loop, an edge listed
 * twice or only from one end (or with two different weights), a negative or zero weight, or a token that is not a
 * number, or weight totals above 2^31 − 1. Only one vertex weight per vertex is supported ({@code ncon} 1). Memory is
 * proportional to the graph.
 *
 * <pre>{@code
 * Graph g = MetisGraphReader.read(Path.of("4elt.graph"));
 * }</pre>
 */
public final class MetisGraphReader {
    private final String name;
    private int lineNo;

    private MetisGraphReader(String name) {
        this.name = name;
    }

    /**
     * Reads a graph file (US-ASCII).
     *
     * @param file the METIS graph file
     * @return the graph, vertices numbered from 0
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException naming file, line and problem when it is malformed
     */
    public static Graph read(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            return read(r, file.toString());
        }
    }

    /**
     * Reads a graph from a reader (not closed here); {@code name} is used in error messages.
     *
     * @param reader the METIS text
     * @param name the source's name for error messages, e.g. the file name
     * @return the graph, vertices numbered from 0
     * @throws IOException when reading fails
     * @throws IllegalArgumentException naming {@code name}, line and problem when the text is malformed
     */
    public static Graph read(Reader reader, String name) throws IOException {
        BufferedReader r = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        return new MetisGraphReader(name).parse(r);
    }

    private IllegalArgumentException error(int line, String problem) {
        return new IllegalArgumentException(name + ":" + line + ": " + problem);
    }

    private String nextLine(BufferedReader r) throws IOException {
        String line;
        while ((line = r.readLine()) != null) {
            lineNo++;
            if (!line.startsWith("%")) {
                return line;
            }
        }
        return null;
    }

    private Graph parse(BufferedReader r) throws IOException {
        String header = nextLine(r);
        while (header != null && header.isBlank()) {
            header = nextLine(r);
        }
        if (header == null) {
            throw error(lineNo, "no header line (expected 'n m [fmt [ncon]]')");
        }
        int headerLine = lineNo;
        long[] h = numbers(header, headerLine);
        if (h.length < 2 || h.length > 4) {
            throw error(headerLine, "header has " + h.length + " fields; expected 'n m [fmt [ncon]]'");
        }
        if (h[0] < 0 || h[0] > Integer.MAX_VALUE - 1 || h[1] < 0 || h[1] > Integer.MAX_VALUE / 2) {
            throw error(headerLine, "vertex count " + h[0] + " or edge count " + h[1] + " out of range");
        }
        int n = (int) h[0];
        long m = h[1];
        boolean sizes = false;
        boolean vweights = false;
        boolean eweights = false;
        if (h.length >= 3) {
            String fmt = header.trim().split("\\s+")[2];
            if (!fmt.matches("[01]{1,3}")) {
                throw error(headerLine, "fmt '" + fmt + "' is not up to three digits 0/1");
            }
            String f = "000".substring(fmt.length()) + fmt;
            sizes = f.charAt(0) == '1';
            vweights = f.charAt(1) == '1';
            eweights = f.charAt(2) == '1';
        }
        if (h.length == 4 && h[3] != 1) {
            throw error(headerLine, "ncon = " + h[3] + ": only one vertex weight per vertex is supported");
        }
        int[] vwgt = new int[n];
        int[] xadj = new int[n + 1];
        int[] lineOf = new int[n];
        int[] adj = new int[(int) Math.min(2 * m, 1 << 20)];
        int[] ew = new int[adj.length];
        int fill = 0;
        for (int v = 0; v < n; v++) {
            String line = nextLine(r);
            if (line == null) {
                throw error(lineNo, "file ends after " + v + " vertex lines; the header promises " + n);
            }
            lineOf[v] = lineNo;
            long[] t = numbers(line, lineNo);
            int i = 0;
            if (sizes) {
                if (t.length == 0) {
                    throw error(lineNo, "vertex " + (v + 1) + ": missing vertex size");
                }
                i++;
            }
            if (vweights) {
                if (t.length <= i) {
                    throw error(lineNo, "vertex " + (v + 1) + ": missing vertex weight");
                }
                if (t[i] < 0 || t[i] > Integer.MAX_VALUE) {
                    throw error(lineNo, "vertex " + (v + 1) + ": weight " + t[i] + " is negative or too large");
                }
                vwgt[v] = (int) t[i++];
            } else {
                vwgt[v] = 1;
            }
            int step = eweights ? 2 : 1;
            if ((t.length - i) % step != 0) {
                throw error(lineNo, "vertex " + (v + 1) + ": odd number of neighbour/weight fields");
            }
            for (; i < t.length; i += step) {
                long u = t[i];
                if (u < 1 || u > n) {
                    throw error(lineNo, "vertex " + (v + 1) + ": neighbour " + u + " is outside 1.." + n);
                }
                if (u == v + 1) {
                    throw error(lineNo, "vertex " + (v + 1) + ": self-loop");
                }
                long w = eweights ? t[i + 1] : 1;
                if (w < 1 || w > Integer.MAX_VALUE) {
                    throw error(lineNo, "vertex " + (v + 1) + ": edge to " + u + " has weight " + w + " (expected 1.."
                            + Integer.MAX_VALUE + ")");
                }
                if (fill == adj.length) {
                    if (fill >= 2 * m) {
                        throw error(lineNo, "more than 2 × " + m + " adjacency entries: the header's edge count is too small");
                    }
                    int cap = (int) Math.min(2 * m, (long) fill * 2);
                    adj = Arrays.copyOf(adj, cap);
                    ew = Arrays.copyOf(ew, cap);
                }
                adj[fill] = (int) (u - 1);
                ew[fill++] = (int) w;
            }
            xadj[v + 1] = fill;
        }
        String extra;
        while ((extra = nextLine(r)) != null) {
            if (!extra.isBlank()) {
                throw error(lineNo, "more vertex lines than the header's " + n);
            }
        }
        if (fill != 2 * m) {
            throw error(headerLine, "header says " + m + " edges but the vertex lines list " + fill
                    + " adjacency entries (expected 2 × " + m + " = " + 2 * m + ")");
        }
        checkSymmetric(n, xadj, adj, ew, lineOf);
        // Coarsening adds weights up in ints (as METIS does with 32-bit idx_t): the totals must fit.
        long totalVertexWeight = 0;
        for (int w : vwgt) {
            totalVertexWeight += w;
        }
        long totalEdgeWeight = 0;
        for (int i = 0; i < fill; i++) {
            totalEdgeWeight += ew[i];
        }
        if (totalVertexWeight > Integer.MAX_VALUE || totalEdgeWeight / 2 > Integer.MAX_VALUE) {
            throw error(headerLine, "total vertex weight " + totalVertexWeight + " or total edge weight " + totalEdgeWeight / 2
                    + " exceeds " + Integer.MAX_VALUE + "; scale the weights down");
        }
        return new Graph(xadj, adj, ew, vwgt);
    }

    /** Every edge must be listed once from each end with the same weight; O(n + m). */
    private void checkSymmetric(int n, int[] xadj, int[] adj, int[] ew, int[] lineOf) {
        int[] revCount = new int[n + 1];
        for (int e = 0; e < xadj[n]; e++) {
            revCount[adj[e] + 1]++;
        }
        for (int v = 0; v < n; v++) {
            revCount[v + 1] += revCount[v];
        }
        int[] pos = Arrays.copyOf(revCount, n);
        int[] revFrom = new int[xadj[n]];
        int[] revW = new int[xadj[n]];
        for (int u = 0; u < n; u++) {
            for (int e = xadj[u]; e < xadj[u + 1]; e++) {
                revFrom[pos[adj[e]]] = u;
                revW[pos[adj[e]]++] = ew[e];
            }
        }
        int[] mark = new int[n];
        int[] markW = new int[n];
        for (int v = 0; v < n; v++) {
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                int u = adj[e];
                if (mark[u] == v + 1) {
                    throw error(lineOf[v], "vertex " + (v + 1) + ": neighbour " + (u + 1) + " listed twice");
                }
                mark[u] = v + 1;
                markW[u] = ew[e];
            }
            for (int i = revCount[v]; i < revCount[v + 1]; i++) {
                int u = revFrom[i];
                if (mark[u] != v + 1) {
                    throw error(lineOf[v], "vertex " + (v + 1) + " does not list " + (u + 1) + ", but vertex " + (u + 1)
                            + " (line " + lineOf[u] + ") lists " + (v + 1) + ": asymmetric edge");
                }
                if (markW[u] != revW[i]) {
                    throw error(lineOf[v], "edge " + (v + 1) + "-" + (u + 1) + " has weight " + markW[u] + " here but "
                            + revW[i] + " on line " + lineOf[u]);
                }
            }
            if (revCount[v + 1] - revCount[v] != xadj[v + 1] - xadj[v]) {
                // v lists a neighbour that does not list v back; find it for the message.
                for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                    int u = adj[e];
                    boolean back = false;
                    for (int f = xadj[u]; f < xadj[u + 1] && !back; f++) {
                        back = adj[f] == v;
                    }
                    if (!back) {
                        throw error(lineOf[v], "vertex " + (v + 1) + " lists " + (u + 1) + ", but vertex " + (u + 1)
                                + " (line " + lineOf[u] + ") does not list " + (v + 1) + ": asymmetric edge");
                    }
                }
            }
        }
    }

    /** The whitespace-separated integers of a line. */
    private long[] numbers(String line, int at) {
        long[] out = new long[8];
        int count = 0;
        int i = 0;
        int len = line.length();
        while (i < len) {
            char c = line.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r') {
                i++;
                continue;
            }
            int start = i;
            boolean negative = false;
            if (c == '-' || c == '+') {
                negative = c == '-';
                i++;
            }
            long value = 0;
            int digits = 0;
            while (i < len && line.charAt(i) >= '0' && line.charAt(i) <= '9') {
                value = value * 10 + (line.charAt(i) - '0');
                if (value > Integer.MAX_VALUE * 4L) {
                    throw error(at, "number '" + token(line, start) + "' is too large");
                }
                i++;
                digits++;
            }
            if (digits == 0 || (i < len && !Character.isWhitespace(line.charAt(i)))) {
                throw error(at, "'" + token(line, start) + "' is not an integer");
            }
            if (count == out.length) {
                out = Arrays.copyOf(out, count * 2);
            }
            out[count++] = negative ? -value : value;
        }
        return Arrays.copyOf(out, count);
    }

    private static String token(String line, int start) {
        int end = start;
        while (end < line.length() && !Character.isWhitespace(line.charAt(end))) {
            end++;
        }
        return line.substring(start, Math.min(end, start + 40));
    }
}
