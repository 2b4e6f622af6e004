//! Inputs read with a bound that follows from what they can legitimately be: devices,
//! FIFOs, huge and sparse files, oversized configs and images are refused before memory
//! runs out.
