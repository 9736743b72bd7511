package io.dwcp.partition;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetisGraphReaderTest {
    private static Graph parse(String text) throws IOException {
        return MetisGraphReader.read(new StringReader(text), "g.graph");
    }

    private static String rejection(String text) {
        return assertThrows(IllegalArgumentException.class, () -> parse(text)).getMessage();
    }

    @Test
    void readsUnweightedGraphWithCommentsAndIsolatedVertex() throws IOException {
        Graph g = parse("% a path and an isolated vertex\n4 2\n2\n1 3\n2\n\n");
        assertEquals(4, g.vertexCount());
        assertEquals(2, g.edgeCount());
        assertEquals(4, g.totalVertexWeight());
        assertEquals(0, g.degree(3));
    }

    @Test
    void readsVertexAndEdgeWeights() throws IOException {
        Graph g = parse("3 2 011\n5 2 7\n1 1 7 3 2\n2 2 2\n");
        assertEquals(8, g.totalVertexWeight());
        assertEquals(5, g.vertexWeight(0));
        assertEquals(9, g.cut(new int[] {0, 1, 0}));
        assertEquals(2, g.cut(new int[] {0, 0, 1}));
    }

    @Test
    void skipsVertexSizes() throws IOException {
        Graph g = parse("2 1 100\n9 2\n9 1\n");
        assertEquals(2, g.totalVertexWeight());
    }

    @Test
    void rejectsWrongEdgeCountNamingTheHeaderLine() {
        assertEquals("g.graph:1: header says 3 edges but the vertex lines list 4 adjacency entries (expected 2 × 3 = 6)",
                rejection("3 3\n2\n1 3\n2\n"));
    }

    @Test
    void rejectsMissingVertexLines() {
        assertTrue(rejection("3 1\n2\n1\n").contains("file ends after 2 vertex lines; the header promises 3"));
    }

    @Test
    void rejectsExtraVertexLines() {
        assertTrue(rejection("2 1\n2\n1\n1\n").startsWith("g.graph:4: more vertex lines"));
    }

    @Test
    void rejectsSelfLoopOnItsLine() {
        assertEquals("g.graph:3: vertex 2: self-loop", rejection("2 1\n2\n2\n"));
    }

    @Test
    void rejectsAsymmetricEdge() {
        String m = rejection("3 2\n2 3\n1\n2\n");
        assertTrue(m.contains("asymmetric edge"), m);
    }

    @Test
    void rejectsOutOfRangeNeighbour() {
        assertEquals("g.graph:2: vertex 1: neighbour 5 is outside 1..2", rejection("2 1\n5\n1\n"));
    }

    @Test
    void rejectsNegativeVertexWeightAndZeroEdgeWeight() {
        assertTrue(rejection("2 1 010\n-1 2\n1 1\n").contains("vertex 1: weight -1 is negative"));
        assertTrue(rejection("2 1 001\n2 0\n1 0\n").contains("has weight 0"));
    }

    @Test
    void rejectsDifferentWeightsOnTheTwoEnds() {
        assertTrue(rejection("2 1 001\n2 4\n1 5\n").contains("edge 1-2 has weight 4 here but 5 on line 3"));
    }

    @Test
    void rejectsDuplicateEdgeAndGarbage() {
        assertTrue(rejection("2 2\n2 2\n1 1\n").contains("neighbour 2 listed twice"));
        assertEquals("g.graph:2: 'x7' is not an integer", rejection("2 1\nx7\n1\n"));
        assertTrue(rejection("").contains("no header line"));
        assertTrue(rejection("2 1 1 2\n2 1\n1 1\n").contains("ncon = 2"));
    }

    @Test
    void rejectsWeightTotalsThatOverflowAnInt() {
        assertTrue(rejection("2 1 010\n2000000000 2\n2000000000 1\n").contains("exceeds 2147483647"));
    }

    @Test
    void errorNamesTheFileWhenReadFromDisk() throws IOException {
        Path dir = Files.createTempDirectory("metis");
        Path f = dir.resolve("bad.graph");
        Files.writeString(f, "2 1\n2\n2\n");
        try {
            String m = assertThrows(IllegalArgumentException.class, () -> MetisGraphReader.read(f)).getMessage();
            assertTrue(m.startsWith(f + ":3:"), m);
        } finally {
            Files.delete(f);
            Files.delete(dir);
        }
    }
}
