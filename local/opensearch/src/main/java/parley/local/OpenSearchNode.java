package parley.local;

import static org.codelibs.opensearch.runner.OpenSearchRunner.newConfigs;

import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * One OpenSearch node in this JVM, for Parley's tests and `make opensearch`:
 * {@code java parley.local.OpenSearchNode <data dir> <http port>}. The node listens on the loopback
 * address only, forms a single-node cluster at once, and runs OpenSearch's modules and the k-NN
 * plugin from the classpath. It prints {@code parley-opensearch-ready <port>} when it serves HTTP
 * and stops when its standard input closes (so a parent that dies takes it along) or on SIGTERM.
 */
public final class OpenSearchNode {
    private OpenSearchNode() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: OpenSearchNode <data dir> <http port>");
            System.exit(2);
        }
        String basePath = args[0];
        String httpPort = args[1];
        OpenSearchRunner runner = new OpenSearchRunner();
        runner.onBuild((index, settings) -> {
            settings.put("http.port", httpPort);
            settings.put("network.host", "127.0.0.1");
            settings.put("discovery.type", "single-node");
            settings.remove("cluster.initial_cluster_manager_nodes");
            settings.remove("cluster.initial_master_nodes");
            settings.remove("discovery.seed_hosts");
            settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        });
        runner.build(newConfigs()
                .basePath(basePath)
                .numOfNode(1)
                .clusterName("parley")
                .pluginTypes("org.opensearch.knn.plugin.KNNPlugin")
                .disableESLogger());
        runner.ensureYellow();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception ignored) {
                // the JVM is going away
            }
        }));
        System.out.println("parley-opensearch-ready " + httpPort);
        System.out.flush();
        while (System.in.read() != -1) {
            // until the parent closes our standard input
        }
        System.exit(0);
    }
}
