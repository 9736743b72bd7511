package io.dwcp.bench;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dwcp-bom} manages every artifact the reactor builds, at the reactor's version, and nothing else: a module
 * added to the root pom without its BOM line fails here.
 */
class BomTest {
    /** Tests run in dwcp-bench; the reactor root is its parent directory. */
    private static final Path ROOT = Path.of("..");

    private static Element parse(Path pom) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document d = f.newDocumentBuilder().parse(pom.toFile());
        return d.getDocumentElement();
    }

    private static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("<" + parent.getTagName() + "> has no <" + name + ">");
    }

    private static String text(Element parent, String name) {
        return child(parent, name).getTextContent().strip();
    }

    @Test
    void theBomManagesEveryModuleAtTheReactorVersion() throws Exception {
        assertTrue(Files.isRegularFile(ROOT.resolve("dwcp-bom/pom.xml")), "run from dwcp-bench inside the reactor");
        Element root = parse(ROOT.resolve("pom.xml"));
        Set<String> artifacts = new TreeSet<>();
        NodeList modules = child(root, "modules").getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            String dir = modules.item(i).getTextContent().strip();
            if (!dir.equals("dwcp-bom")) {
                artifacts.add(text(parse(ROOT.resolve(dir).resolve("pom.xml")), "artifactId"));
            }
        }

        Element bom = parse(ROOT.resolve("dwcp-bom/pom.xml"));
        assertEquals(text(root, "version"), text(bom, "version"), "the BOM's version is the reactor's");
        assertEquals("pom", text(bom, "packaging"));
        Map<String, String> managed = new TreeMap<>();
        NodeList deps = child(child(bom, "dependencyManagement"), "dependencies").getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            assertEquals("io.dwcp", text(d, "groupId"));
            managed.put(text(d, "artifactId"), text(d, "version"));
        }
        assertEquals(artifacts, managed.keySet(), "one <dependency> in dwcp-bom/pom.xml per module of the root pom");
        for (Map.Entry<String, String> e : managed.entrySet()) {
            assertEquals("${project.version}", e.getValue(), e.getKey());
        }
    }
}
