"""drafarm's own benchmarks: the DRA kubelet plugin through its real socket, and the farm generator.

python -m benchmarks                 # both; results/bench-plugin.json and results/bench-farm.json
python -m benchmarks.plugin_bench    # prepare latency, prepares/s, plugin RSS with the `large` farm
python -m benchmarks.farm_bench      # `drafarm farm show large` and in-process farm build time
python -m benchmarks.plugin_real_bench  # drafarm vs the upstream Go driver on real claims (local cluster)
"""
