import { Module } from '@nestjs/common';
import { PipelineResolver } from './pipeline.resolver';
import { PipelineReferenceService } from './pipeline-references.service';
import { PipelineService } from './pipeline.service';
import { PipelinesResponder } from './pipelines.responder';
import { ProjectCleanup } from './project-cleanup';
import { ProjectPipelinesResolver } from './project-pipelines.resolver';
import { StageTypesResolver } from './stage-types.resolver';

@Module({ providers: [PipelineService, PipelineReferenceService, PipelineResolver, ProjectPipelinesResolver, StageTypesResolver, PipelinesResponder, ProjectCleanup] })
export class PipelinesModule {}
