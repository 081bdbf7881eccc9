// The postgres project: every daemon the suite starts runs on its own database of the throwaway cluster.
process.env.KSI_TEST_BACKEND = 'postgres';
