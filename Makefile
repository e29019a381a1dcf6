# The two commands of the README: `make demo` and `make test`. Both do their own set-up.
PYTHON ?= python
# Pinned: they install from files already on our machines; an unpinned torch pulls a
# newer multi-GB build.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
TOY_ROOT ?= data/toycity

.PHONY: install demo test lint

install:
	$(PYTHON) -m pip install -q $(TORCH_PINS)
	$(PYTHON) -m pip install -q -e ".[tests]"

$(TOY_ROOT)/leftImg8bit:
	$(PYTHON) tools/misc/make_toycity.py --out $(TOY_ROOT)

demo: install $(TOY_ROOT)/leftImg8bit
	$(PYTHON) tools/train.py configs/deeplabv3_r18_toycity.py --data-root $(TOY_ROOT)

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

test: install lint
	$(PYTHON) -m pytest -q -n 2 --dist loadfile
