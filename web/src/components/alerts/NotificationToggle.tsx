import { useState } from 'react';
import { useAlertsStore } from '../../stores/alertsStore';

/** Opt-in browser notifications for alert events; the browser asks for permission the first time. */
export function NotificationToggle() {
  const enabled = useAlertsStore((state) => state.notificationsEnabled);
  const setEnabled = useAlertsStore((state) => state.setNotificationsEnabled);
  const [refused, setRefused] = useState(false);
  const supported = typeof window !== 'undefined' && 'Notification' in window;

  const toggle = async (wanted: boolean) => {
    await setEnabled(wanted);
    setRefused(wanted && !useAlertsStore.getState().notificationsEnabled);
  };

  return (
    <label className="checkbox" title="Firing and resolved alerts pop up even when this tab is in the background">
      <input
        type="checkbox"
        checked={enabled}
        disabled={!supported}
        onChange={(event) => void toggle(event.target.checked)}
        data-testid="notifications-toggle"
      />
      Browser notifications
      {!supported && <span className="faint"> (not supported by this browser)</span>}
      {refused && <span className="field-error"> The browser refused permission.</span>}
    </label>
  );
}
