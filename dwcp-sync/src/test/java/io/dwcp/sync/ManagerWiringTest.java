package io.dwcp.sync;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.Health;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DwcpManager finds ASS through ServiceLoader, gives it the AMST transport and starts it after the transport. */
class ManagerWiringTest {
    @Test
    void managerDiscoversAndRunsTheSyncComponent() throws Exception {
        DwcpConfig config = Nodes.config("m1");
        try (DwcpManager m = DwcpManager.builder().config(config).build()) {
            assertInstanceOf(AssSync.class, m.sync());
            List<String> names = m.componentNames();
            assertTrue(names.indexOf("transport") < names.indexOf("sync"), names.toString());
            m.start();
            InetSocketAddress a = m.sync().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).get(5, TimeUnit.SECONDS);
            assertTrue(a.getPort() > 0);
            m.sync().metadata().addToCounter("vms", 2);
            assertEquals(2, m.sync().metadata().counter("vms"));
            assertEquals(Health.Status.HEALTHY, m.componentHealth().get("sync").status());
            assertTrue(m.meterRegistry().find("dwcp.ass.keys").gauge().value() >= 1);
            m.sync().addPeer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9));
            assertTrue(m.meterRegistry().find("dwcp.ass.staleness").tag("peer", "127.0.0.1:9").gauge() != null);
            m.sync().removePeer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9));
            assertTrue(m.meterRegistry().find("dwcp.ass.staleness").tag("peer", "127.0.0.1:9").gauge() == null);
        }
        // a manager without dwcp.node-id still starts its sync component (under a random name)
        try (DwcpManager m = DwcpManager.builder().config(Nodes.config("x").toBuilder().set("dwcp.node-id", "random").build()).build()) {
            m.start();
            assertTrue(((AssSync) m.sync()).store().replicaId().startsWith("node-"));
        }
    }
}
