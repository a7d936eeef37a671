;; table-bomb: ten tables of 1,000,000 funcref elements each (the element cap) and one page of
;; memory: 80 MB of table memory in a module of a few hundred bytes (adversarial: tables must
;; count against mem, 8 bytes an element; with mem 1 the start is refused with MEMORY_LIMIT).
(module
  (memory (export "memory") 1)
  (table 1000000 funcref) (table 1000000 funcref) (table 1000000 funcref) (table 1000000 funcref)
  (table 1000000 funcref) (table 1000000 funcref) (table 1000000 funcref) (table 1000000 funcref)
  (table 1000000 funcref) (table 1000000 funcref)
  (func (export "_start")))
