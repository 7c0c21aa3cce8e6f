/**
 * Stick tables: the store (table.ts), data types (data-types.ts), keys (keys.ts), HAProxy's
 * frequency counters (freq.ts) and the runtime API commands (show.ts).
 * @module
 */
export { STICK_DATA_NAMES, STICK_DATA_TYPES, stickDataType, type StickDataName, type StickDataType,
  type StickStdType } from './data-types.ts'
export { STICK_ERROR_CODES, StickDataTypeError, StickError, StickIndexError, StickKeyError, StickSpecError,
  StickStaleEntryError, type StickErrorCode } from './errors.ts'
export { freqFromWire, freqRead, freqSet, freqToWire, freqTotal, freqUpdate, type FreqCounterWire } from './freq.ts'
export { formatIPv4, formatIPv6, formatKey, keyBytes, normalizeKey, parseIPv4, parseIPv6, type StickKeyId,
  type StickKeyInput, type StickKeyType } from './keys.ts'
export { formatShowTable, formatTableEntry, formatTableHeader, matchesFilters, MAX_DATA_FILTERS, parseDataFilters,
  runTableCommand, type CliAccessLevel, type DataFilter, type FilterOperator, type TableAction,
    type TableCommandContext } from './show.ts'
export { STICK_MAX_SIZE, StickEntry, StickTable, type ExportedDatum, type RemoteDatum, type RemoteScalar,
  type RemoteValue, type StickCounterName, type StickRateName, type StickTableHandle, type StickTableOptions,
  type StickTableStats,
    type StoredDataType } from './table.ts'
