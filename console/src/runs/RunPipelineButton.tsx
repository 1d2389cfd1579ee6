/** Placeholder until the runs helper writes it: a "Run" button with the pipeline's parameters form. */
export function RunPipelineButton({ pipelineId }: { pipelineId: string }) {
  return (
    <button type="button" disabled title={pipelineId}>
      Run
    </button>
  );
}
