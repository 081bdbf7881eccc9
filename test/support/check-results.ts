// Every daemon the suite starts (directly, through the CLI or in-process) checks each handler's result
// against its event's definition, so a definition that disagrees with its handler fails the test that hit it.
process.env.KSI_CHECK_RESULTS ??= 'on';
