/**
 * The web app's pure trading logic, imported rather than copied so both apps apply the same grid and
 * balance checks, the same book sequencing and the same reconnect policy: decimal strings through big.js,
 * the order ticket's validation, the L2 book from snapshot plus numbered deltas, and the live socket.
 */
export {
  decimalPlaces,
  floorToStep,
  formatDecimal,
  parseDecimal,
  parseSignedDecimal,
} from "../../../frontend/src/lib/decimal";
export {
  validateOrderTicket,
  type Available,
  type InstrumentRules,
  type OrderType,
  type Side,
  type TicketErrors,
  type TicketInput,
  type TicketResult,
  type TimeInForce,
} from "../../../frontend/src/lib/orderTicket";
export {
  applyBookEvent,
  bestPrices,
  bookSides,
  emptyBook,
  type BookDelta,
  type BookSnapshot,
  type BookState,
  type DepthLevel,
} from "../../../frontend/src/lib/orderBook";
export {
  LiveSocket,
  type ChannelFrame,
  type ChannelListener,
  type ChannelMessage,
  type LiveSocketOptions,
  type LiveStatus,
} from "../../../frontend/src/lib/liveSocket";
