# Sourced by the training scripts here: the offline environment, the interpreter, two threads, a time stamp.
py="${PYTHON:-.venv/bin/python}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False PYTHONUNBUFFERED=1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
stamp() { echo "$1 $(date -u +%H:%M:%S)"; }
