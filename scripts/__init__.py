"""What the Makefile runs (`python -m scripts.up`, `python -m scripts.engine`), and the local control
plane and run config the end-to-end tests share with it."""
