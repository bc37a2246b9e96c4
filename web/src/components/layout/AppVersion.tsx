import { useEffect, useState } from 'react';
import { systemApi } from '../../api/system';

/** The service's version, read once from the health endpoint: which release a screenshot or bug report shows. */
export function AppVersion() {
  const [version, setVersion] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    systemApi
      .getHealth(controller.signal)
      .then((health) => setVersion(health.version))
      .catch(() => undefined);
    return () => controller.abort();
  }, []);
  if (!version) return null;
  return (
    <span className="nav-version" data-testid="app-version" title="GPU Sentinel version">
      v{version}
    </span>
  );
}
