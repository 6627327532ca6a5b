"""Virtual nodes: farm nodes without a kubelet, as Node objects that kwok keeps Ready and runs pods on,
their devices published as ResourceSlices by drafarm (the plugin's slice builder, a pool per node, owned
by the Node). Provider-neutral: a fleet needs a kubeconfig, the kwok binary and a directory of its own."""
