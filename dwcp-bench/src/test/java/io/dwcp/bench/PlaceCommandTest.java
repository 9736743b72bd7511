package io.dwcp.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dwcp place}: a JSON model in, a placement and ordered moves out; bad and infeasible models exit non-zero. */
class PlaceCommandTest {
    private static final String MODEL = """
            {
              "sites": [{"id": "eu", "cpuCores": 4, "memoryBytes": 1e10}, {"id": "us", "cpuCores": 4, "memoryBytes": 1e10}],
              "vms": [
                {"id": "a", "cpuCores": 1, "memoryBytes": 1e9, "stateBytes": 1e9},
                {"id": "b", "cpuCores": 1, "memoryBytes": 1e9, "stateBytes": 1e9},
                {"id": "c", "cpuCores": 1, "memoryBytes": 1e9, "stateBytes": 1e9, "pinnedSite": "us"},
                {"id": "d", "cpuCores": 1, "memoryBytes": 1e9, "stateBytes": 1e9}
              ],
              "traffic": [
                {"from": "a", "to": "b", "bytesPerSecond": 1e7}, {"from": "b", "to": "a", "bytesPerSecond": 1e7},
                {"from": "c", "to": "d", "bytesPerSecond": 1e7}, {"from": "d", "to": "c", "bytesPerSecond": 1e7}
              ],
              "currentPlacement": {"a": "eu", "b": "us", "c": "us", "d": "eu"}
            }
            """;

    @Test
    @SuppressWarnings("unchecked")
    void rebalancesAModelIntoTwoPairsWithSafeMoves(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model.json");
        Files.writeString(model, MODEL);
        Path out = dir.resolve("plan.json");
        assertEquals(0, DwcpCli.run(new String[]{"place", "--model", model.toString(), "--out", out.toString(), "--rebalance", "--json"}));
        Map<String, Object> plan = (Map<String, Object>) JsonReader.parse(Files.readString(out), "plan.json");
        assertEquals("APPLIED", plan.get("outcome"));
        Map<String, Object> placement = (Map<String, Object>) plan.get("placement");
        assertEquals(placement.get("a"), placement.get("b"));
        assertEquals("us", placement.get("c"));
        assertEquals("us", placement.get("d"));
        assertEquals(0.0, plan.get("crossSiteShare"));
        List<Object> moves = (List<Object>) plan.get("moves");
        assertTrue(moves.size() == 2, moves.toString());
    }

    @Test
    @SuppressWarnings("unchecked")
    void linksAndNodesAreReadAndTheNodePlacementWritten(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model.json");
        Files.writeString(model, MODEL.replace("\"currentPlacement\"", """
                "links": [{"from": "eu", "to": "us", "rttMillis": 80, "bandwidthBitsPerSecond": 1e9, "pricePerGb": 0.02,
                           "peer": "us-gw"}],
                "nodes": [{"id": "us-1", "site": "us", "cpuCores": 2, "memoryBytes": 5e9},
                          {"id": "us-2", "site": "us", "cpuCores": 2, "memoryBytes": 5e9}],
                "currentPlacement\""""));
        Path out = dir.resolve("plan.json");
        assertEquals(0, DwcpCli.run(new String[]{"place", "--model", model.toString(), "--out", out.toString()}));
        Map<String, Object> plan = (Map<String, Object>) JsonReader.parse(Files.readString(out), "plan.json");
        Map<String, Object> placement = (Map<String, Object>) plan.get("placement");
        Map<String, Object> nodes = (Map<String, Object>) plan.get("nodePlacement");
        for (Map.Entry<String, Object> e : placement.entrySet()) {
            assertEquals(e.getValue().equals("us"), nodes.containsKey(e.getKey()), e.toString());
        }
        assertEquals(nodes.get("c"), nodes.get("d")); // the pair on us shares a node of 2 cores
    }

    @Test
    void malformedJsonExitsWithTwo(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("bad.json");
        Files.writeString(model, "{\"sites\": [\n  {\"id\": \"eu\", }\n]}");
        assertEquals(2, DwcpCli.run(new String[]{"place", "--model", model.toString(), "--out", dir.resolve("p.json").toString()}));
        assertEquals("bad.json:2:16: expected a member name in double quotes",
                assertThrows(IllegalArgumentException.class, () -> JsonReader.parse(Files.readString(model), "bad.json")).getMessage());
    }

    @Test
    void infeasibleModelExitsWithOne(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("full.json");
        Files.writeString(model, MODEL.replace("\"cpuCores\": 4", "\"cpuCores\": 1"));
        assertEquals(1, DwcpCli.run(new String[]{"place", "--model", model.toString(), "--out", dir.resolve("p.json").toString()}));
        assertTrue(Files.notExists(dir.resolve("p.json")));
    }

    @Test
    void modelErrorsNameTheItem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlaceCommand.model(
                JsonReader.parse("{\"sites\": [], \"vms\": [{\"id\": \"a\", \"cpuCores\": -1, \"memoryBytes\": 1, \"stateBytes\": 1}]}", "m"), "m"));
        assertEquals("m: VM 'a': cpuCores must be finite and >= 0, got -1.0", e.getMessage());
    }
}
