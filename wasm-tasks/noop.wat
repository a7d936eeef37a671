;; noop: the trivial task: `_start` returns at once (launch latency and throughput benchmarks).
(module
  (memory (export "memory") 1)
  (func (export "_start")))
