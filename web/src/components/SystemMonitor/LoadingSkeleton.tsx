/** First load only: the shape of the dashboard while its first answer is on its way. */
export function LoadingSkeleton() {
  return (
    <div data-testid="loading-skeleton" aria-busy="true" aria-label="Loading metrics">
      <div className="grid charts-grid">
        {[0, 1, 2, 3].map((index) => (
          <div key={index} className="skeleton" style={{ height: 260 }} />
        ))}
      </div>
      <div className="grid grid-4 section">
        {[0, 1, 2, 3].map((index) => (
          <div key={index} className="skeleton" style={{ height: 150 }} />
        ))}
      </div>
    </div>
  );
}
