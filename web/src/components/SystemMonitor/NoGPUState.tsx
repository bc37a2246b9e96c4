/** Spec 003 §8.3: without a GPU the host metrics still work. */
export function NoGPUState() {
  return (
    <div className="panel empty-state" data-testid="no-gpu">
      <div style={{ fontSize: 36 }} aria-hidden="true">
        ⚠
      </div>
      <h3>No GPU Detected</h3>
      <p className="muted">System monitoring is available for CPU and memory metrics.</p>
    </div>
  );
}
