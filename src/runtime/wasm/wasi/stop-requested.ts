// Thrown out of a wait when the driver asked the task to stop (stop, timeout).
export class StopRequested extends Error {}
