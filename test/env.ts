// Loaded before any test module: tests run the small profile, so nothing they write lands in figures/.
process.env.FAST = '1';
