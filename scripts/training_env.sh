# Sourced by the training scripts here: the offline environment, the interpreter, two threads, a time stamp.
py="${PYTHON:-.venv/bin/python}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False PYTHONUNBUFFERED=1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
stamp() { echo "$1 $(date -u +%H:%M:%S)"; }
# legs DIR COMMAND...: run a trainer in resumable legs until it is done. Each leg adds --resume when DIR/state
# exists and writes its output to DIR/leg.log; a leg that ended on its time budget runs again, any other end
# marks DIR/DONE (so running the script again after a stop goes on where it was).
legs() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  until [ -f "$dir/DONE" ]; do
    local resume=()
    [ -d "$dir/state" ] && resume=(--resume)
    "$@" "${resume[@]}" 2>&1 | tee "$dir/leg.log"
    grep -q "time budget" "$dir/leg.log" || touch "$dir/DONE"
  done
}
