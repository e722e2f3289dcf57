// The Create Task modal (opened by the blue + button in the Inbox header).

/** Put the + button into options.slot and the modal into the page (to be written). */
export function installCreateTask(_options) {}
